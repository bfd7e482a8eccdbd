// Package gatewaytest has fakes for testing a front-end behind a real gateway.
package gatewaytest

import (
	"context"
	"fmt"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/sigv4"
)

// Keys is a gateway.KeyLookup over fixed access keys: each id in Principals authenticates as
// its principal, all with the one Secret.
type Keys struct {
	Secret     string
	Principals map[string]identity.Principal
}

// LookupAccessKey implements gateway.KeyLookup; these keys are long-term, so any session
// token is refused.
func (k Keys) LookupAccessKey(_ context.Context, id, token string) (string, *identity.Principal, error) {
	p, ok := k.Principals[id]
	if !ok {
		return "", nil, fmt.Errorf("%w: %s", sigv4.ErrUnknownAccessKey, id)
	}
	if token != "" {
		return "", nil, fmt.Errorf("%w: %s is a long-term key", sigv4.ErrInvalidToken, id)
	}
	p.AccessKeyID = id
	return k.Secret, &p, nil
}

// Root is the principal of account's root user.
func Root(account string) identity.Principal {
	return identity.Principal{Type: identity.Root, AccountID: account, ARN: identity.RootARN(account), UserID: account}
}
