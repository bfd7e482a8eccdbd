package bolt

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data, and only the metadata needed to read it back: the log is written
// into blocks allocated ahead, so that is no metadata at all.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
