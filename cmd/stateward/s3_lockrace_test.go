package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3LockFileRace: 64 clients race to create the same .tflock with If-None-Match: *, as
// OpenTofu's use_lockfile does, round after round. Exactly one wins each round; every other
// attempt gets 412 PreconditionFailed, and the lock holds the winner's body.
func TestS3LockFileRace(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, envOptions{})
	mustVersionedBucket(t, env, "locks")
	const racers, rounds = 64, 25
	key := aws.String("env:/dev/terraform.tfstate.tflock")
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		results := make([]error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, results[i] = env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locks"), Key: key,
					IfNoneMatch: aws.String("*"), Body: strings.NewReader(fmt.Sprintf(`{"ID":"racer-%d"}`, i))})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range results {
			switch code, status := errCode(err); {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: racers %d and %d both took the lock", round, winner, i)
			case err == nil:
				winner = i
			case code != "PreconditionFailed" || status != 412:
				t.Fatalf("round %d: racer %d: %v, want 412 PreconditionFailed", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody took the lock", round)
		}
		if got := string(mustGet(t, env, "locks", *key, "")); got != fmt.Sprintf(`{"ID":"racer-%d"}`, winner) {
			t.Fatalf("round %d: lock holds %s, winner was racer %d", round, got, winner)
		}
		if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locks"), Key: key}); err != nil {
			t.Fatal(err)
		}
	}
}
