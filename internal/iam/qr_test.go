package iam_test

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// checkQR reads png back with gozxing's QR decoder and checks it carries want.
func checkQR(t testing.TB, png []byte, want string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(png))
	if err != nil || format != "png" {
		t.Fatalf("QRCodePNG is not a PNG (%q): %v", format, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pureBarcode)
	if err != nil {
		t.Fatalf("decode QR code: %v", err)
	}
	if got := res.GetText(); got != want {
		t.Errorf("QR code carries %q, want %q", got, want)
	}
}

// pureBarcode tells the decoder the image is a generated code, not a photo: its detector for
// photos misreads about one in fifty unrotated synthetic codes (which zbar reads fine), and a
// test that fails for the decoder's sake says nothing about the code.
var pureBarcode = map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true}
