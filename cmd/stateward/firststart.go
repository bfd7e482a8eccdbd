package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/stateward/stateward/internal/iam"
)

// defaultBucket is created, versioned, on first start so the printed backend block works as is.
const defaultBucket = "terraform-state"

// writeClientFiles writes <dir>/credentials and <dir>/config for the "stateward" profile in the
// AWS shared-file formats. The credentials file is written once and never rewritten; the config
// follows the current endpoint.
func writeClientFiles(dir string, key *iam.AccessKey, region, endpoint string) error {
	creds := filepath.Join(dir, "credentials")
	// key is nil once the bootstrap root key was deleted (aws iam delete-access-key): there
	// is nothing left to write.
	if _, err := os.Stat(creds); errors.Is(err, os.ErrNotExist) && key != nil {
		body := fmt.Sprintf("[stateward]\naws_access_key_id = %s\naws_secret_access_key = %s\n", key.ID, key.Secret.Reveal())
		if err := writeFileAtomic(creds, []byte(body)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// signature_version s3v4 makes aws CLI v1 presign with SigV4 rather than the retired SigV2.
	cfg := fmt.Sprintf("[profile stateward]\nregion = %s\nendpoint_url = %s\ns3 =\n    signature_version = s3v4\n", region, endpoint)
	return writeFileAtomic(filepath.Join(dir, "config"), []byte(cfg))
}

// writeFileAtomic writes a 0600 file through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// printStart tells the operator where the server is and, on first start, the credentials and a
// backend block that works against it. Secrets go to stdout once, never to the log.
func (m *Main) printStart(c *serveConfig, acct *iam.Account, key *iam.AccessKey, created bool, endpoint string) {
	dir, _ := filepath.Abs(c.DataDir)
	w := m.Stdout
	fmt.Fprintf(w, "stateward %s serving %s (region %s, account %s)\n", Version, endpoint, c.Region, acct.ID)
	if !created {
		fmt.Fprintf(w, "credentials: %s (profile stateward)\n", filepath.Join(dir, "credentials"))
		return
	}
	fmt.Fprintf(w, "\nFirst start: created account %s, its root access key, and the versioned bucket %q.\n", acct.ID, defaultBucket)
	fmt.Fprintf(w, "Credentials were written to %s (profile stateward); the secret is not shown again.\n\n", filepath.Join(dir, "credentials"))
	fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n  export AWS_REGION=%s\n  export AWS_ENDPOINT_URL=%s\n",
		key.ID, key.Secret.Reveal(), c.Region, endpoint)
	if c.TLSSelfSigned {
		fmt.Fprintf(w, "  export AWS_CA_BUNDLE=%s\n", filepath.Join(dir, "tls", "cert.pem"))
	}
	fmt.Fprintf(w, `
terraform {
  backend "s3" {
    bucket         = %q
    key            = "terraform.tfstate"
    region         = %q
    endpoints      = { s3 = %q, sts = %q }
    use_path_style = true
    use_lockfile   = true
  }
}

`, defaultBucket, c.Region, endpoint, endpoint)
}

// ensureSelfSigned returns a certificate and key for local HTTPS in dir, creating them on
// first use: ECDSA P-256, valid for loopback and this host's name for two years.
func ensureSelfSigned(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "stateward local", Organization: []string{"stateward"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so clients can trust it directly as their CA bundle
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
