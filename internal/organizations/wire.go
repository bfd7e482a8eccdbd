package organizations

import (
	"strconv"
	"time"
)

// Epoch is a timestamp on the JSON 1.1 wire: seconds since the Unix epoch as a number, with
// millisecond precision.
type Epoch time.Time

// MarshalJSON writes the number.
func (t Epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

// epochPtr is t on the wire, or nil for the zero time so the member is left out.
func epochPtr(t time.Time) *Epoch {
	if t.IsZero() {
		return nil
	}
	e := Epoch(t)
	return &e
}

// Organization is the model's Organization.
type Organization struct {
	ID                 string `json:"Id"`
	Arn                string `json:"Arn"`
	FeatureSet         string `json:"FeatureSet"`
	MasterAccountArn   string `json:"MasterAccountArn"`
	MasterAccountID    string `json:"MasterAccountId"`
	MasterAccountEmail string `json:"MasterAccountEmail,omitempty"`
	// AvailablePolicyTypes is deprecated by AWS but still sent.
	AvailablePolicyTypes []PolicyTypeSummary `json:"AvailablePolicyTypes"`
}

// PolicyTypeSummary is the model's PolicyTypeSummary.
type PolicyTypeSummary struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

// policyTypes are the policy types enabled in an organization of featureSet. An organization
// with all features starts with service control policies enabled and only the FullAWSAccess
// policy attached, which allows everything; this server enforces no service control policy,
// which is the same thing.
func policyTypes(featureSet string) []PolicyTypeSummary {
	if featureSet == featureAll {
		return []PolicyTypeSummary{{Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED"}}
	}
	return []PolicyTypeSummary{}
}

func organizationOf(o *organization) *Organization {
	return &Organization{
		ID:                   o.ID,
		Arn:                  o.arn(),
		FeatureSet:           o.FeatureSet,
		MasterAccountArn:     o.accountARN(o.Management),
		MasterAccountID:      o.Management,
		AvailablePolicyTypes: policyTypes(o.FeatureSet),
	}
}

// Account is the model's Account.
type Account struct {
	ID              string   `json:"Id"`
	Arn             string   `json:"Arn"`
	Email           string   `json:"Email,omitempty"`
	Name            string   `json:"Name"`
	Status          string   `json:"Status"`
	State           string   `json:"State"`
	Paths           []string `json:"Paths"`
	JoinedMethod    string   `json:"JoinedMethod"`
	JoinedTimestamp Epoch    `json:"JoinedTimestamp"`
}

func accountOf(o *organization, m *member, name string) Account {
	return Account{
		ID:              m.Account,
		Arn:             o.accountARN(m.Account),
		Email:           m.Email,
		Name:            name,
		Status:          "ACTIVE",
		State:           "ACTIVE",
		Paths:           []string{o.ID + "/" + o.Root + "/" + m.Account + "/"},
		JoinedMethod:    m.Method,
		JoinedTimestamp: Epoch(m.Joined),
	}
}

// CreateAccountStatus is the model's CreateAccountStatus.
type CreateAccountStatus struct {
	ID                 string `json:"Id"`
	AccountName        string `json:"AccountName"`
	State              string `json:"State"`
	RequestedTimestamp Epoch  `json:"RequestedTimestamp"`
	CompletedTimestamp *Epoch `json:"CompletedTimestamp,omitempty"`
	AccountID          string `json:"AccountId,omitempty"`
	FailureReason      string `json:"FailureReason,omitempty"`
}

func statusOf(r *accountRequest) CreateAccountStatus {
	return CreateAccountStatus{
		ID:                 r.ID,
		AccountName:        r.AccountName,
		State:              r.State,
		RequestedTimestamp: Epoch(r.Requested),
		CompletedTimestamp: epochPtr(r.Completed),
		AccountID:          r.AccountID,
		FailureReason:      r.FailureReason,
	}
}

// Root is the model's Root.
type Root struct {
	ID          string              `json:"Id"`
	Arn         string              `json:"Arn"`
	Name        string              `json:"Name"`
	PolicyTypes []PolicyTypeSummary `json:"PolicyTypes"`
}

// Parent is the model's Parent.
type Parent struct {
	ID   string `json:"Id"`
	Type string `json:"Type"` // ROOT or ORGANIZATIONAL_UNIT
}

// Child is the model's Child.
type Child struct {
	ID   string `json:"Id"`
	Type string `json:"Type"` // ACCOUNT or ORGANIZATIONAL_UNIT
}

// Tag is the model's Tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}
