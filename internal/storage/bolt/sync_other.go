//go:build !linux

package bolt

import "os"

// datasync flushes f; without fdatasync, that is a full fsync.
func datasync(f *os.File) error { return f.Sync() }
