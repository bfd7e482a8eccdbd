//go:build !unix

package bolt

// unmap keeps bbolt's mapping as it is where madvise is not available.
func (t *tx) unmap() { t.large = nil }
