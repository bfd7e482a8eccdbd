package dynamodb

// Capacity accounting, simplified from DynamoDB's: a read unit per 4 KB read (half for an
// eventually consistent read), a write unit per 1 KB written, at least one unit per request.

type consumedCapacity struct {
	TableName          string    `json:"TableName"`
	CapacityUnits      float64   `json:"CapacityUnits"`
	ReadCapacityUnits  *float64  `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits *float64  `json:"WriteCapacityUnits,omitempty"`
	Table              *capacity `json:"Table,omitempty"`
}

type capacity struct {
	CapacityUnits      float64  `json:"CapacityUnits"`
	ReadCapacityUnits  *float64 `json:"ReadCapacityUnits,omitempty"`
	WriteCapacityUnits *float64 `json:"WriteCapacityUnits,omitempty"`
}

func readUnits(bytes int, consistent bool) float64 {
	u := float64(max(1, (bytes+4095)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

func writeUnits(bytes int) float64 { return float64(max(1, (bytes+1023)/1024)) }

// consumed reports units per ReturnConsumedCapacity: nil for NONE (or absent), the total for
// TOTAL, and the table's share as well for INDEXES.
func consumed(mode, table string, units float64, write bool) *consumedCapacity {
	if mode != "TOTAL" && mode != "INDEXES" {
		return nil
	}
	u := units
	c := &consumedCapacity{TableName: table, CapacityUnits: units}
	if write {
		c.WriteCapacityUnits = &u
	} else {
		c.ReadCapacityUnits = &u
	}
	if mode == "INDEXES" {
		c.Table = &capacity{CapacityUnits: units, ReadCapacityUnits: c.ReadCapacityUnits, WriteCapacityUnits: c.WriteCapacityUnits}
	}
	return c
}

func checkCapacityMode(mode string) error {
	switch mode {
	case "", "NONE", "TOTAL", "INDEXES":
		return nil
	}
	return validation("1 validation error detected: Value '%s' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]", mode)
}
