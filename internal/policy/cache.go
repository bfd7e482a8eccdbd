package policy

import (
	"sync"
)

// Cache keeps parsed documents by kind and text, so that a service parsing the same bucket
// or key policy on every request parses it once. It holds at most its size in documents and,
// when full, forgets one at random (Go's map order) to make room: policies in use come back
// at once, so no recency bookkeeping is worth its cost. Errors are not cached. A Cache is safe
// for concurrent use; the documents it returns are shared and must not be modified.
type Cache struct {
	mu   sync.Mutex
	max  int
	docs map[cacheKey]*Document
}

// The text itself is the key: a Document holds its Text anyway, so hashing it first (sha256)
// would save no memory and cost more per lookup than the map's own hash.
type cacheKey struct {
	kind Kind
	text string
}

// NewCache returns a Cache of at most size documents (at least 1).
func NewCache(size int) *Cache {
	return &Cache{max: max(size, 1), docs: make(map[cacheKey]*Document)}
}

// Parse is Parse(text, k), answered from the cache when text was parsed before.
func (c *Cache) Parse(text string, k Kind) (*Document, error) {
	key := cacheKey{k, text}
	c.mu.Lock()
	d, ok := c.docs[key]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := Parse(text, k)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.docs[key]; ok { // parsed meanwhile by another caller: share one
		return prev, nil
	}
	if len(c.docs) >= c.max {
		for k := range c.docs {
			delete(c.docs, k)
			break
		}
	}
	c.docs[key] = d
	return d, nil
}

// Len returns the number of documents held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.docs)
}

var defaultCache = NewCache(1024)

// ParseCached is Parse through a process-wide Cache of 1024 documents. The Document may be
// shared with other callers and must not be modified.
func ParseCached(text string, k Kind) (*Document, error) {
	return defaultCache.Parse(text, k)
}
