package ssm

import (
	"context"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

type labelInput struct {
	Name             *string  `json:"Name"`
	ParameterVersion *int64   `json:"ParameterVersion"`
	Labels           []string `json:"Labels"`
}

type labelOutput struct {
	InvalidLabels    []string `json:"InvalidLabels"`
	ParameterVersion int64    `json:"ParameterVersion"`
}

type unlabelOutput struct {
	RemovedLabels []string `json:"RemovedLabels"`
	InvalidLabels []string `json:"InvalidLabels"`
}

// labelTarget validates a label request and authorizes op on the parameter it names.
func (s *Service) labelTarget(ctx context.Context, op string, in *labelInput) (account, name string, err error) {
	p, err := caller(ctx)
	if err != nil {
		return "", "", err
	}
	if name, err = requiredName(in.Name, "name"); err != nil {
		return "", "", err
	}
	if err := checkName(name); err != nil {
		return "", "", err
	}
	switch {
	case in.Labels == nil:
		return "", "", errRequired("labels")
	case len(in.Labels) < 1 || len(in.Labels) > maxLabelsEach:
		return "", "", errValidation("1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	account = p.AccountID
	cur, err := s.head(ctx, account, name)
	if err != nil {
		return "", "", err
	}
	if err := s.authorize(ctx, op, s.parameterARN(account, name), account, cur, nil); err != nil {
		return "", "", err
	}
	return account, name, nil
}

// updateLabels applies fn to a parameter's record inside one write transaction, with the
// version the request names (the latest when v is nil), checked to exist.
func (s *Service) updateLabels(ctx context.Context, account, name string, v *int64, fn func(p *parameterRecord, v int64) error) error {
	return s.store.Update(ctx, func(tx storage.Tx) error {
		p, err := getParam(tx, account, s.region, name)
		if err != nil {
			return err
		}
		if p == nil {
			return errParameterNotFound(name)
		}
		version := p.Version
		if v != nil {
			version = *v
		}
		if version < p.Oldest || version > p.Version {
			return awserr.Newf(CodeParameterVersionNotFound, "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
		}
		if err := fn(p, version); err != nil {
			return err
		}
		return storage.PutJSON(tx, paramKey(account, s.region, name), p)
	})
}

// labelParameterVersion attaches labels to a version (the latest unless named), moving each
// from whichever version had it. Labels SSM would not accept come back in InvalidLabels.
func (s *Service) labelParameterVersion(ctx context.Context, in *labelInput) (*labelOutput, error) {
	account, name, err := s.labelTarget(ctx, "LabelParameterVersion", in)
	if err != nil {
		return nil, err
	}
	out := &labelOutput{InvalidLabels: []string{}}
	err = s.updateLabels(ctx, account, name, in.ParameterVersion, func(p *parameterRecord, v int64) error {
		out.InvalidLabels, out.ParameterVersion = out.InvalidLabels[:0], v
		for _, l := range in.Labels {
			if !checkLabel(l) {
				out.InvalidLabels = append(out.InvalidLabels, l)
				continue
			}
			if p.Labels == nil {
				p.Labels = map[string]int64{}
			}
			p.Labels[l] = v
		}
		if len(p.labelsOf(v)) > maxLabelsEach {
			return awserr.New(CodeLabelLimitExceeded, "A parameter version can have a maximum of ten labels.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unlabelParameterVersion removes labels from a version; labels that version does not carry
// come back in InvalidLabels.
func (s *Service) unlabelParameterVersion(ctx context.Context, in *labelInput) (*unlabelOutput, error) {
	if in.ParameterVersion == nil {
		return nil, errRequired("parameterVersion")
	}
	account, name, err := s.labelTarget(ctx, "UnlabelParameterVersion", in)
	if err != nil {
		return nil, err
	}
	out := &unlabelOutput{RemovedLabels: []string{}, InvalidLabels: []string{}}
	err = s.updateLabels(ctx, account, name, in.ParameterVersion, func(p *parameterRecord, v int64) error {
		out.RemovedLabels, out.InvalidLabels = out.RemovedLabels[:0], out.InvalidLabels[:0]
		for _, l := range in.Labels {
			if n, ok := p.Labels[l]; ok && n == v {
				delete(p.Labels, l)
				out.RemovedLabels = append(out.RemovedLabels, l)
			} else {
				out.InvalidLabels = append(out.InvalidLabels, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
