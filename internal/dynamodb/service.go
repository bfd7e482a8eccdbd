// Package dynamodb is the DynamoDB API: tables and items in an account and region, stored
// through storage.Store, with condition, update, projection and key-condition expressions
// evaluated inside the store transaction so conditional writes are linearizable. Its JSON 1.0
// front-end (Handler) decodes requests and encodes responses; the Service's typed operations
// authorize each call and never see HTTP.
package dynamodb

import (
	"errors"
	"log/slog"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/dynamodb/expr"
	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/storage"
)

// Config configures a Service. Nil fields mean defaults where one exists.
type Config struct {
	Store      storage.Store // required
	Authorizer Authorizer    // required
	// StateLocks authorizes lock-table items as the states they lock; nil: as items only.
	StateLocks StateLocks
	Region     string // the region tables live in; "us-east-1" if empty
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service implements DynamoDB semantics over a store.
type Service struct {
	store  storage.Store
	authz  Authorizer
	locks  StateLocks
	region string
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, authz: c.Authorizer, locks: c.StateLocks, region: c.Region, log: c.Logger, now: c.Now}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Error codes DynamoDB answers with (all HTTP 400).
const (
	codeValidation        = "ValidationException"
	codeResourceNotFound  = "ResourceNotFoundException"
	codeResourceInUse     = "ResourceInUseException"
	codeConditionalFailed = "ConditionalCheckFailedException"
	codeAccessDenied      = "AccessDeniedException"
)

func validation(format string, args ...any) error {
	return awserr.Newf(codeValidation, format, args...)
}

func errTableNotFound() error {
	return awserr.New(codeResourceNotFound, "Requested resource not found")
}

// conditionFailed is a failed ConditionExpression; old is the item as it stood, sent back
// when ReturnValuesOnConditionCheckFailure is ALL_OLD.
type conditionFailed struct {
	old item.Item
}

func (e *conditionFailed) Error() string { return "The conditional request failed" }

// classify turns errors from the item and expr packages into ValidationExceptions; anything
// else passes through.
func classify(err error) error {
	var ie *item.Error
	var ee *expr.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return awserr.New(codeValidation, ie.Msg)
	case errors.As(err, &ee):
		return awserr.New(codeValidation, ee.Msg)
	}
	return err
}
