//go:build !qrdecode

package iam_test

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// checkQR checks that png is a PNG of the QR code of want. This build compares it with the
// encoder's own rendering of want; building with -tags qrdecode reads it back with an
// independent decoder instead (qrdecode_test.go), which needs golang.org/x/text listed in
// go.mod.
func checkQR(t testing.TB, png []byte, want string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(png))
	if err != nil || format != "png" {
		t.Fatalf("QRCodePNG is not a PNG (%q): %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 200 {
		t.Errorf("QR code image is %v", b)
	}
	ref, err := qrcode.Encode(want, qrcode.Medium, 256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(png, ref) {
		t.Errorf("QRCodePNG is not the QR code of %q", want)
	}
}
