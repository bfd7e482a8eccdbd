package policy

import (
	"fmt"
	"sync"
	"testing"
)

func TestCacheSharesDocuments(t *testing.T) {
	c := NewCache(4)
	text := stmt(`"Effect":"Allow","Action":"*","Resource":"*"`)
	d1, err := c.Parse(text, IdentityKind)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := c.Parse(text, IdentityKind)
	if d1 != d2 {
		t.Error("the same text parsed twice")
	}
	// The kind is part of the key: the same text may be refused as another kind.
	if _, err := c.Parse(text, ResourceKind); err == nil {
		t.Error("identity text accepted as a resource policy")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1 (errors are not cached)", c.Len())
	}
}

func TestCacheBounded(t *testing.T) {
	c := NewCache(8)
	for i := 0; i < 100; i++ {
		if _, err := c.Parse(stmt(fmt.Sprintf(`"Sid":"S%d","Effect":"Allow","Action":"*","Resource":"*"`, i)), IdentityKind); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 8 {
			t.Fatalf("Len = %d after %d documents, want at most 8", c.Len(), i+1)
		}
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(16)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				text := stmt(fmt.Sprintf(`"Sid":"S%d","Effect":"Allow","Action":"*","Resource":"*"`, i%32))
				d, err := c.Parse(text, IdentityKind)
				if err != nil || d.Text != text {
					t.Errorf("Parse = %v, %v", d, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseCached(t *testing.T) {
	text := stmt(`"Sid":"Cached","Effect":"Allow","Action":"*","Resource":"*"`)
	d1, err1 := ParseCached(text, IdentityKind)
	d2, err2 := ParseCached(text, IdentityKind)
	if err1 != nil || err2 != nil || d1 != d2 {
		t.Errorf("ParseCached = %p, %v and %p, %v", d1, err1, d2, err2)
	}
}
