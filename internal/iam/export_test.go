package iam

// WaitForKeyUses waits for the access-key use records being written, so a test can read them.
func (s *Service) WaitForKeyUses() { s.uses.wg.Wait() }
