//go:build unix

package bolt

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// unmap drops this process's mapping of the whole pages under the large values the
// transaction read. bbolt serves reads from a shared, read-only mapping of its file: without
// this, streaming a large object would leave it all counted in the server's resident memory.
// The pages stay in the page cache and fault back in if read again; it runs before the
// transaction ends, while bbolt guarantees the mapping does not move.
func (t *tx) unmap() {
	page := os.Getpagesize()
	for _, v := range t.large {
		// Only the whole pages inside v: its neighbours on the first and last page may be
		// in use by this transaction's other values.
		skip := (page - int(uintptr(unsafe.Pointer(unsafe.SliceData(v)))%uintptr(page))) % page
		if n := (len(v) - skip) / page * page; n > 0 {
			// Advice only: an error leaves the pages mapped, which is merely what bbolt does.
			_ = unix.Madvise(v[skip:skip+n], unix.MADV_DONTNEED)
		}
	}
	t.large = nil
}
