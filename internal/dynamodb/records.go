package dynamodb

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/storage"
)

// Record layout. Table metadata and items live under different prefixes, so listing tables
// touches no item. Items are keyed by table id (not name, so a table deleted and created again
// never sees old items) and the order-preserving encodings of the hash key and then the range
// key: a Query is one range scan.
//
//	ddb/table/<account>/<region>/<name>                   tableRecord (JSON)
//	ddb/item/<table id>/<enc(hash)>[<enc(range)>]          item record
//	ddb/dropped/<table id>                                 a deleted table whose items are still being removed
const (
	prefixTable   = "ddb/table/"
	prefixItem    = "ddb/item/"
	prefixDropped = "ddb/dropped/"
)

func tableKey(account, region, name string) []byte {
	return []byte(prefixTable + account + "/" + region + "/" + name)
}

func tablesPrefix(account, region string) []byte {
	return []byte(prefixTable + account + "/" + region + "/")
}

// itemsPrefix is the prefix of every item of a table; table ids have a fixed length.
func itemsPrefix(tableID string) []byte { return []byte(prefixItem + tableID + "/") }

func droppedKey(tableID string) []byte { return []byte(prefixDropped + tableID) }

type keyElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

type attributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// tableRecord is a table's stored metadata.
type tableRecord struct {
	ID         string                `json:"id"`
	Account    string                `json:"account"`
	Region     string                `json:"region"`
	Name       string                `json:"name"`
	Created    time.Time             `json:"created"`
	KeySchema  []keyElement          `json:"keySchema"`
	Attributes []attributeDefinition `json:"attributes"`
	// BillingMode is PROVISIONED or PAY_PER_REQUEST; BillingModeSet says the client named it,
	// after which AWS reports a BillingModeSummary.
	BillingMode        string    `json:"billingMode"`
	BillingModeSet     bool      `json:"billingModeSet,omitempty"`
	PayPerRequestSince time.Time `json:"payPerRequestSince,omitzero"`
	ReadCapacity       int64     `json:"read,omitempty"`
	WriteCapacity      int64     `json:"write,omitempty"`
	LastIncrease       time.Time `json:"lastIncrease,omitzero"`
	LastDecrease       time.Time `json:"lastDecrease,omitzero"`
	TableClass         string    `json:"tableClass,omitempty"`
	DeletionProtection bool      `json:"deletionProtection,omitempty"`
	Tags               []tag     `json:"tags,omitempty"`
}

func (t *tableRecord) arn() string { return tableARN(t.Region, t.Account, t.Name) }

func tableARN(region, account, name string) string {
	return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name
}

func (t *tableRecord) hashKey() keyElement { return t.KeySchema[0] }

func (t *tableRecord) rangeKey() (keyElement, bool) {
	if len(t.KeySchema) < 2 {
		return keyElement{}, false
	}
	return t.KeySchema[1], true
}

func (t *tableRecord) isKey(name string) bool {
	for _, k := range t.KeySchema {
		if k.AttributeName == name {
			return true
		}
	}
	return false
}

func (t *tableRecord) attrType(name string) item.Type {
	for _, a := range t.Attributes {
		if a.AttributeName == name {
			ty, _ := item.ParseType(a.AttributeType)
			return ty
		}
	}
	return item.Invalid
}

// DynamoDB's limits on key attribute sizes.
const (
	maxHashKeySize  = 2048
	maxRangeKeySize = 1024
)

// itemKey is an item's primary key: the key attributes and the storage key they encode to.
type itemKey struct {
	attrs item.Item
	hash  item.Value
	store []byte
}

// keyOf checks the key attributes in attrs against the table's schema and returns the key.
// attrs is either a whole item (PutItem), which may carry other attributes, or a Key
// parameter, which must hold exactly the key attributes.
func (t *tableRecord) keyOf(attrs item.Item, whole bool) (itemKey, error) {
	if !whole && len(attrs) != len(t.KeySchema) {
		return itemKey{}, validation("The provided key element does not match the schema")
	}
	k := itemKey{attrs: make(item.Item, len(t.KeySchema)), store: itemsPrefix(t.ID)}
	for i, ke := range t.KeySchema {
		name := ke.AttributeName
		v, ok := attrs[name]
		if !ok {
			if whole {
				return itemKey{}, validation("One or more parameter values were invalid: Missing the key %s in the item", name)
			}
			return itemKey{}, validation("The provided key element does not match the schema")
		}
		want := t.attrType(name)
		if v.Type != want {
			return itemKey{}, validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", name, want, v.Type)
		}
		if (v.Type == item.S && v.S == "") || (v.Type == item.B && len(v.B) == 0) {
			kind := "string"
			if v.Type == item.B {
				kind = "binary"
			}
			return itemKey{}, validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", kind, name)
		}
		if i == 0 && v.Size() > maxHashKeySize {
			return itemKey{}, validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
		}
		if i == 1 && v.Size() > maxRangeKeySize {
			return itemKey{}, validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
		}
		enc, err := item.AppendKey(k.store, v)
		if err != nil {
			return itemKey{}, classify(err)
		}
		k.store = enc
		k.attrs[name] = v
		if i == 0 {
			k.hash = v
		}
	}
	return k, nil
}

// keyAttrs returns the key attributes of a stored item, for LastEvaluatedKey.
func (t *tableRecord) keyAttrs(it item.Item) item.Item {
	out := make(item.Item, len(t.KeySchema))
	for _, ke := range t.KeySchema {
		out[ke.AttributeName] = it[ke.AttributeName]
	}
	return out
}

// Item records: a format byte, the item's DynamoDB size as a uvarint (so table sizes are
// summed without decoding items), then the item's JSON wire form, which keeps every string
// byte-exact.
const itemFormatJSON = 1

func encodeItem(it item.Item) []byte {
	buf := make([]byte, 0, 64+it.Size()*5/4)
	buf = append(buf, itemFormatJSON)
	buf = binary.AppendUvarint(buf, uint64(it.Size()))
	return it.AppendJSON(buf)
}

var errCorruptItem = errors.New("dynamodb: corrupt item record")

// itemRecordSize reads the size header of an item record.
func itemRecordSize(rec []byte) (int, error) {
	if len(rec) < 2 || rec[0] != itemFormatJSON {
		return 0, errCorruptItem
	}
	n, w := binary.Uvarint(rec[1:])
	if w <= 0 {
		return 0, errCorruptItem
	}
	return int(n), nil
}

func decodeItem(rec []byte) (item.Item, error) {
	if len(rec) < 2 || rec[0] != itemFormatJSON {
		return nil, errCorruptItem
	}
	_, w := binary.Uvarint(rec[1:])
	if w <= 0 {
		return nil, errCorruptItem
	}
	var it item.Item
	if err := json.Unmarshal(rec[1+w:], &it); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorruptItem, err)
	}
	return it, nil
}

// getItem reads an item inside tx; nil when there is none.
func getItem(tx storage.Tx, key []byte) (item.Item, error) {
	rec, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeItem(rec)
}

func getTable(tx storage.Tx, account, region, name string) (*tableRecord, error) {
	var t tableRecord
	if err := storage.GetJSON(tx, tableKey(account, region, name), &t); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errTableNotFound()
		}
		return nil, err
	}
	return &t, nil
}

func putTable(tx storage.Tx, t *tableRecord) error {
	return storage.PutJSON(tx, tableKey(t.Account, t.Region, t.Name), t)
}

// table reads a table record in its own transaction.
func (s *Service) table(ctx context.Context, account, name string) (*tableRecord, error) {
	var t *tableRecord
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		t, err = getTable(tx, account, s.region, name)
		return err
	})
	return t, err
}
