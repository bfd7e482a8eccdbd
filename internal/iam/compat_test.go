package iam_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/storage"
)

// TestStoreOfAnEarlierVersion starts over the records the first version wrote (the management
// account and its root key, nothing else) and checks they keep working: Bootstrap returns
// them, the key authenticates, and the root user can list and replace it.
func TestStoreOfAnEarlierVersion(t *testing.T) {
	e := newEnv(t) // for its store; its own records are replaced below
	ctx := context.Background()
	const acct, keyID, secret = "123456789012", "AKIAOLDOLDOLDOLDOLD2", "0123456789abcdefghijABCDEFGHIJ0123456789"
	err := e.store.Update(ctx, func(tx storage.Tx) error {
		if err := storage.ScanPrefix(tx, []byte("iam/"), func(k, _ []byte) error { return tx.Delete(k) }); err != nil {
			return err
		}
		for k, v := range map[string]string{
			"iam/management":         `{"account":"` + acct + `","accessKey":"` + keyID + `"}`,
			"iam/account/" + acct:    `{"id":"` + acct + `","name":"management","created":"2025-01-02T03:04:05.123456789Z"}`,
			"iam/accesskey/" + keyID: `{"id":"` + keyID + `","secret":"` + secret + `","account":"` + acct + `","userId":"` + acct + `","active":true,"created":"2025-01-02T03:04:05.123456789Z"}`,
		} {
			if err := tx.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := iam.NewService(iam.Config{Store: e.store, Logger: log, Now: e.clock.Now})
	defer svc.Close()
	a, k, created, err := svc.Bootstrap(ctx)
	if err != nil || created || a.ID != acct || k == nil || k.ID != keyID || k.Secret.Reveal() != secret {
		t.Fatalf("Bootstrap = %+v, %+v, %v, %v", a, k, created, err)
	}
	if key, err := svc.LookupAccessKey(ctx, keyID); err != nil || key.Principal().ARN != "arn:aws:iam::"+acct+":root" {
		t.Errorf("LookupAccessKey = %+v, %v", key, err)
	}
	ts := httptest.NewServer(gateway.New(gateway.Config{Keys: iam.GatewayKeys{Service: svc}, Frontends: []gateway.Frontend{iam.NewHandler(svc)}, Logger: log}))
	defer ts.Close()
	root := awsiam.NewFromConfig(aws.Config{Region: region, HTTPClient: ts.Client(), RetryMaxAttempts: 1,
		Credentials: staticCreds(keyID, secret)}, func(o *awsiam.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	keys := must(root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{}))
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != keyID {
		t.Errorf("root's keys = %+v", keys.AccessKeyMetadata)
	}
	self := must(root.GetUser(ctx, &awsiam.GetUserInput{}))
	if aws.ToString(self.User.Arn) != "arn:aws:iam::"+acct+":root" || self.User.CreateDate.Year() != 2025 {
		t.Errorf("GetUser = %+v", self.User)
	}
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("new")}))
	must(root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{}))
	must(root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: aws.String(keyID)}))
	// Bootstrap is run at every start; the deleted key does not come back.
	if _, k, _, err := svc.Bootstrap(ctx); err != nil || k != nil {
		t.Errorf("Bootstrap after deleting the first key = %+v, %v", k, err)
	}
}
