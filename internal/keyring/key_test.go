package keyring

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestKeyRedacted(t *testing.T) {
	key := Key(bytes.Repeat([]byte{0xab}, KeySize))
	type holder struct{ K Key }
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("text", "key", key)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("json", "key", key, slog.Any("any", key))
	outputs := map[string]string{"log": logs.String(), "String": key.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%08b"} {
		outputs[verb] = fmt.Sprintf(verb, key)
		outputs[verb+" in struct"] = fmt.Sprintf(verb, holder{key})
	}
	leaks := []string{hex.EncodeToString(key), strings.ToUpper(hex.EncodeToString(key)), base64.StdEncoding.EncodeToString(key),
		"171 171", "0xab", "10101011", string(key)}
	for name, out := range outputs {
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s: %q does not say [redacted]", name, out)
		}
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Errorf("%s: %q leaks the key as %q", name, out, leak)
			}
		}
	}
}

func TestNewDataKey(t *testing.T) {
	a, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != KeySize || bytes.Equal(a, b) || bytes.Equal(a, make([]byte, KeySize)) {
		t.Errorf("NewDataKey gave %d bytes, equal to the next key: %t; want %d fresh random bytes", len(a), bytes.Equal(a, b), KeySize)
	}
}

func TestZero(t *testing.T) {
	b := []byte("secret")
	Zero(b)
	if !bytes.Equal(b, make([]byte, 6)) {
		t.Errorf("Zero left %q", b)
	}
}
