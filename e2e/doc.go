// Package e2e drives real, unmodified clients against a running stateward server: OpenTofu and
// Terraform with `backend "s3"`, the aws CLI (v1 and v2), chamber and aws-sdk-go-v2. Nothing here imports
// the server's packages; the suite builds ./cmd/stateward, starts `stateward serve` on a loopback
// port with a fresh data directory (plain HTTP and --tls-self-signed), and talks to it only over
// the wire, the way a user's machine would.
//
// # Running
//
// Build the pinned clients once (several minutes the first time; cached afterwards), then run the
// suite with a generous timeout:
//
//	STATEWARD_CLIENTS_BIN=$(scripts/install-clients | tail -1) go test -timeout 60m ./e2e/...
//
// Narrow it with -run, for example:
//
//	go test -timeout 20m ./e2e/ -run 'TestTerraformS3Backend/tofu-1.12.6/https'
//	go test ./e2e/ -run 'TestAWSCLI/v2'
//
// # Environment
//
//	STATEWARD_CLIENTS_BIN  directory holding tofu-1.12.6, terraform-1.8.5, terraform-1.5.7 and
//	                       chamber-3.1.4 (the last line printed by scripts/install-clients)
//	STATEWARD_BIN          use this stateward binary instead of building ./cmd/stateward
//	STATEWARD_AWS_V1       aws CLI v1 binary (default: the first `aws` on PATH that reports 1.x)
//	STATEWARD_AWS_V2       aws CLI v2 binary (default: /usr/bin/aws)
//	STATEWARD_E2E_SERVER_LOG  if set, log the server's stderr even when a test passes
//	STATEWARD_E2E_TF_LOG   passed to Terraform/OpenTofu as TF_LOG (e.g. DEBUG) to see the wire
//	CI=true                a missing client binary fails the test instead of skipping it
//
// Each client command runs under a 3-minute deadline. On failure a test logs the client's full
// stdout and stderr and the tail of the server's stderr.
package e2e
