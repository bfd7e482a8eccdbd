package ssm

import (
	"strconv"
	"time"
)

// epoch is a timestamp on the JSON 1.1 wire: seconds since the Unix epoch as a number, with
// millisecond precision, as SSM sends it (clients fail on any other form).
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

// wireParameter is the API's Parameter.
type wireParameter struct {
	Name             string `json:"Name"`
	Type             string `json:"Type"`
	Value            string `json:"Value"`
	Version          int64  `json:"Version"`
	Selector         string `json:"Selector,omitempty"`
	LastModifiedDate epoch  `json:"LastModifiedDate"`
	ARN              string `json:"ARN"`
	DataType         string `json:"DataType"`
}

// wirePolicy is the API's ParameterInlinePolicy; stateward has none to report.
type wirePolicy struct{}

// wireMetadata is the API's ParameterMetadata. chamber dereferences Name, LastModifiedDate
// and LastModifiedUser without a nil check, so they are always sent.
type wireMetadata struct {
	Name             string       `json:"Name"`
	ARN              string       `json:"ARN"`
	Type             string       `json:"Type"`
	KeyID            string       `json:"KeyId,omitempty"`
	LastModifiedDate epoch        `json:"LastModifiedDate"`
	LastModifiedUser string       `json:"LastModifiedUser"`
	Description      string       `json:"Description,omitempty"`
	AllowedPattern   string       `json:"AllowedPattern,omitempty"`
	Version          int64        `json:"Version"`
	Tier             string       `json:"Tier"`
	Policies         []wirePolicy `json:"Policies"`
	DataType         string       `json:"DataType"`
}

// wireHistory is the API's ParameterHistory; as for wireMetadata, chamber needs Name,
// LastModifiedDate and LastModifiedUser, and Value when it reads an old version.
type wireHistory struct {
	Name             string       `json:"Name"`
	Type             string       `json:"Type"`
	KeyID            string       `json:"KeyId,omitempty"`
	LastModifiedDate epoch        `json:"LastModifiedDate"`
	LastModifiedUser string       `json:"LastModifiedUser"`
	Description      string       `json:"Description,omitempty"`
	Value            string       `json:"Value"`
	AllowedPattern   string       `json:"AllowedPattern,omitempty"`
	Version          int64        `json:"Version"`
	Labels           []string     `json:"Labels"`
	Tier             string       `json:"Tier"`
	Policies         []wirePolicy `json:"Policies"`
	DataType         string       `json:"DataType"`
}

type wireTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

// emptyOutput is the response of operations that return nothing.
type emptyOutput struct{}

func metadataOf(arn string, p *parameterRecord) wireMetadata {
	return wireMetadata{Name: p.Name, ARN: arn, Type: p.Type, KeyID: p.KeyID,
		LastModifiedDate: epoch(p.Modified), LastModifiedUser: p.ModifiedBy, Description: p.Description,
		AllowedPattern: p.AllowedPattern, Version: p.Version, Tier: p.Tier, Policies: []wirePolicy{}, DataType: p.DataType}
}
