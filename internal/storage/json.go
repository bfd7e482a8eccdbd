package storage

import (
	"encoding/json"
	"fmt"
)

// GetJSON reads key and decodes its JSON value into v; ErrNotFound if key has no value.
func GetJSON(tx Tx, key []byte, v any) error {
	raw, err := tx.Get(key)
	if err != nil {
		return err
	}
	return DecodeJSON(key, raw, v)
}

// DecodeJSON decodes raw, the JSON value stored under key (as a scan hands them out), into v.
func DecodeJSON(key, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("storage: decode %q: %w", key, err)
	}
	return nil
}

// PutJSON stores v, encoded as JSON, under key.
func PutJSON(tx Tx, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode %q: %w", key, err)
	}
	return tx.Put(key, raw)
}
