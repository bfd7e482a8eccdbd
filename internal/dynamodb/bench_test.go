package dynamodb_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkLockCycle measures Terraform's lock cycle (conditional PutItem, consistent GetItem
// of the lock info, DeleteItem) through the SDK over loopback, against the sealed bbolt store,
// with 1 and 64 clients each cycling on its own key. It reports the cycle's p50 and p99
// latency and the cycles per second of all clients together.
func BenchmarkLockCycle(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("keys=%d", clients), func(b *testing.B) {
			env := newEnv(b)
			env.createTable(b, "tf-locks", "LockID", "S", "", "")
			ctx := context.Background()
			cycle := func(lockID string) error {
				_, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("tf-locks"),
					ConditionExpression: str("attribute_not_exists(LockID)"),
					Item:                map[string]types.AttributeValue{"LockID": s(lockID), "Info": s(lockInfo)}})
				if err != nil {
					return err
				}
				if _, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("tf-locks"), Key: key("LockID", lockID),
					ProjectionExpression: str("LockID, Info"), ConsistentRead: aws.Bool(true)}); err != nil {
					return err
				}
				_, err = env.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: str("tf-locks"), Key: key("LockID", lockID)})
				return err
			}
			var (
				next    atomic.Int64
				wg      sync.WaitGroup
				mu      sync.Mutex
				samples []time.Duration
				failed  atomic.Value
			)
			b.ResetTimer()
			start := time.Now()
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					lockID := fmt.Sprintf("bucket/env-%d/terraform.tfstate", c)
					var mine []time.Duration
					for next.Add(1) <= int64(b.N) {
						t0 := time.Now()
						if err := cycle(lockID); err != nil {
							failed.Store(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					samples = append(samples, mine...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			slices.Sort(samples)
			pct := func(p float64) float64 {
				return float64(samples[int(p*float64(len(samples)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(samples))/elapsed.Seconds(), "cycles/s")
		})
	}
}
