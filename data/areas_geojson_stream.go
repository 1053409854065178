package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
)

// The GeoJSON areas reader in three parts: one goroutine cuts the
// features array into each feature's bytes (cutter), workers decode and
// check batches of features at once (decodeBatch: a hand-written parser
// for the usual shape of a feature, encoding/json for anything else), and
// the caller's goroutine takes them in input order into the areaBuilder,
// which alone knows the codes seen before. The result is the one
// readAreasGeoJSONSerial gives, errors included.

const (
	cutBlock   = 4 << 10   // bytes first read at a time; more as features need
	batchBytes = 256 << 10 // features' bytes handed to a worker at once
)

// featureBatch is a run of consecutive features of the file.
type featureBatch struct {
	data  []byte     // owns the bytes; spans index into it
	spans [][2]int   // each feature's bytes in data
	first int        // 1-based index of the first feature
	out   []featDone // decoded, in order
	done  chan struct{}

	// A batch with err set ends the stream with that error; one with
	// single set is a top-level Feature, taken as it is.
	err    error
	single *ingest.Feature
}

type featDone struct {
	a     geo.Area
	es    geo.FieldErrors
	fatal error // the stream ends here
}

// readAreasGeoJSONFrom streams the features of the GeoJSON in r into b,
// decoding them on every core; the areas, their order and the errors are
// those of readAreasGeoJSONSerial.
func readAreasGeoJSONFrom(ctx context.Context, r io.Reader, b *areaBuilder) error {
	c := &cutter{r: r}
	for len(c.buf) < batchBytes && c.more() {
	}
	if c.eof || c.rerr != nil {
		// No more than a batch: decoded here, without goroutines.
		var derr error
		c.send = func(fb *featureBatch) bool {
			if fb.err == nil && fb.single == nil {
				decodeBatch(fb, b)
			}
			derr = deliver(ctx, b, fb)
			return derr == nil
		}
		if err := c.run(); err != nil && err != errStopped && c.flush() {
			return err
		}
		return derr
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	order := make(chan *featureBatch, 2*workers+2)
	work := make(chan *featureBatch, 2*workers+2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		send := func(fb *featureBatch) bool {
			select {
			case order <- fb:
			case <-stop:
				return false
			}
			if fb.err != nil || fb.single != nil {
				close(fb.done)
				return true
			}
			select {
			case work <- fb:
				return true
			case <-stop:
				return false
			}
		}
		c.send = send
		if err := c.run(); err != nil && err != errStopped && c.flush() {
			send(&featureBatch{err: err, done: make(chan struct{})})
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fb := range work {
				decodeBatch(fb, b)
				close(fb.done)
			}
		}()
	}
	defer func() {
		close(stop)
		for range order { // let the cutter see stop
		}
		wg.Wait()
	}()
	for fb := range order {
		<-fb.done
		if err := deliver(ctx, b, fb); err != nil {
			return err
		}
	}
	return nil
}

// deliver takes the decoded features of fb into b, in order.
func deliver(ctx context.Context, b *areaBuilder, fb *featureBatch) error {
	switch {
	case fb.err != nil:
		return fb.err
	case fb.single != nil:
		return b.add(ctx, rawFromFeature(fb.single, nil))
	}
	for _, d := range fb.out {
		if d.fatal != nil {
			return d.fatal
		}
		if err := b.take(ctx, 0, d.a, d.es); err != nil {
			return err
		}
	}
	return nil
}

// decodeBatch decodes and converts the features of fb.
func decodeBatch(fb *featureBatch, b *areaBuilder) {
	fb.out = make([]featDone, len(fb.spans))
	var sc scratch
	for i, sp := range fb.spans {
		raw := fb.data[sp[0]:sp[1]]
		rf, ok := fastFeature(raw, &sc)
		if !ok {
			var err error
			rf, err = slowFeature(raw)
			if err != nil {
				fb.out[i].fatal = fmt.Errorf("feature %d: %w", fb.first+i, err)
				fb.out = fb.out[:i+1]
				return
			}
		}
		fb.out[i].a, fb.out[i].es = b.area(rf)
	}
}

// slowFeature decodes one feature's bytes as ingest.StreamFeatures and
// readAreasGeoJSONSerial do; the error is one that ends the stream.
func slowFeature(raw []byte) (rawFeature, error) {
	var f ingest.Feature
	err := json.Unmarshal(raw, &f)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		err = fmt.Errorf("not a GeoJSON feature: %s has the wrong type", te.Field)
	case err != nil:
		return rawFeature{}, err
	case f.Type != "Feature":
		err = fmt.Errorf("not a GeoJSON feature (type %q)", f.Type)
	}
	return rawFromFeature(&f, err), nil
}

// errNotFeatureCollection matches ingest's error for a top level that is
// neither a FeatureCollection nor a Feature.
var errNotFeatureCollection = errors.New("not a GeoJSON FeatureCollection or Feature")

// cutter reads the top-level object and cuts its features arrays into
// batches of features' bytes. Values other than features are checked and
// decoded with encoding/json (they are few and small); a feature's bytes
// are checked by the worker that decodes them.
type cutter struct {
	r    io.Reader
	send func(*featureBatch) bool // false: stop
	buf  []byte
	pos  int
	eof  bool
	rerr error

	n     int // features cut so far
	batch *featureBatch
}

// more reads more input into buf; false at the end of the input or on a
// read error (in rerr).
func (c *cutter) more() bool {
	for !c.eof && c.rerr == nil {
		if len(c.buf) == cap(c.buf) {
			nb := make([]byte, len(c.buf), max(2*cap(c.buf), cutBlock))
			copy(nb, c.buf)
			c.buf = nb
		}
		n, err := c.r.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if err == io.EOF {
			c.eof = true
		} else if err != nil {
			c.rerr = err
		}
		if n > 0 {
			return true
		}
	}
	return false
}

// eofErr is the error for input that ends inside a value.
func (c *cutter) eofErr() error {
	if c.rerr != nil {
		return c.rerr
	}
	return io.ErrUnexpectedEOF
}

// space skips white space and returns the next byte; false at the end.
func (c *cutter) space() (byte, bool) {
	for {
		for c.pos < len(c.buf) {
			switch ch := c.buf[c.pos]; ch {
			case ' ', '\t', '\n', '\r':
				c.pos++
			default:
				return ch, true
			}
		}
		if !c.more() {
			return 0, false
		}
	}
}

// value finds the end of the JSON value starting at c.pos (after white
// space) and returns its bounds in buf. It only delimits: strings and
// nesting are followed, the rest is checked by whoever decodes the value.
func (c *cutter) value() (start, end int, err error) {
	ch, ok := c.space()
	if !ok {
		return 0, 0, c.eofErr()
	}
	start = c.pos
	switch ch {
	case '{', '[', '"':
		depth, inStr, esc := 0, false, false
		for {
			for ; c.pos < len(c.buf); c.pos++ {
				ch := c.buf[c.pos]
				switch {
				case inStr:
					switch {
					case esc:
						esc = false
					case ch == '\\':
						esc = true
					case ch == '"':
						inStr = false
						if depth == 0 {
							c.pos++
							return start, c.pos, nil
						}
					}
				case ch == '"':
					inStr = true
				case ch == '{' || ch == '[':
					depth++
				case ch == '}' || ch == ']':
					depth--
					if depth == 0 {
						c.pos++
						return start, c.pos, nil
					}
				}
			}
			if !c.more() {
				return 0, 0, c.eofErr()
			}
		}
	}
	// A number or a literal: up to the next delimiter.
	for {
		for ; c.pos < len(c.buf); c.pos++ {
			switch c.buf[c.pos] {
			case ',', ']', '}', ':', ' ', '\t', '\n', '\r', '"', '[', '{':
				return start, c.pos, nil
			}
		}
		if !c.more() {
			if c.rerr != nil {
				return 0, 0, c.rerr
			}
			return start, c.pos, nil
		}
	}
}

// decodeValue decodes the next value into v with encoding/json.
func (c *cutter) decodeValue(v any) error {
	s, e, err := c.value()
	if err != nil {
		return err
	}
	return json.Unmarshal(c.buf[s:e], v)
}

// syntax is the error for an unexpected byte.
// separator reads what follows a member or an element: a ',' and
// returns the first byte of the next (end there would be a trailing
// comma: the error says next), or end, which it consumes and returns;
// anything else is an error saying after.
func (c *cutter) separator(end byte, next, after string) (byte, error) {
	ch, ok := c.space()
	if !ok {
		return 0, c.eofErr()
	}
	switch ch {
	case ',':
		c.pos++
		if ch, ok = c.space(); !ok {
			return 0, c.eofErr()
		}
		if ch == end {
			return 0, syntax(ch, next)
		}
		return ch, nil
	case end:
		c.pos++
		return end, nil
	}
	return 0, syntax(ch, after)
}

func syntax(ch byte, where string) error {
	return fmt.Errorf("invalid character %q %s", ch, where)
}

// flush hands the batch being cut to the workers and starts a new buffer
// for the input after it.
func (c *cutter) flush() bool {
	fb := c.batch
	c.batch = nil
	if fb == nil || len(fb.spans) == 0 {
		return true
	}
	fb.data = c.buf[:c.pos:c.pos]
	nb := make([]byte, len(c.buf)-c.pos, max(cap(c.buf), len(c.buf)-c.pos))
	copy(nb, c.buf[c.pos:])
	c.buf, c.pos = nb, 0
	return c.send(fb)
}

var errStopped = errors.New("stopped")

// run reads the whole top level, as ingest.StreamFeatures does.
func (c *cutter) run() error {
	for len(c.buf) < 3 && c.more() {
	}
	if c.rerr != nil && len(c.buf) == 0 {
		return fmt.Errorf("not JSON: %w", c.rerr)
	}
	if bytes.HasPrefix(c.buf, []byte("\xEF\xBB\xBF")) {
		c.pos = 3
	}
	ch, ok := c.space()
	if !ok {
		if c.rerr != nil {
			return fmt.Errorf("not JSON: %w", c.rerr)
		}
		return fmt.Errorf("empty input: %w", errNotFeatureCollection)
	}
	if ch != '{' {
		if s, e, err := c.value(); err != nil || !json.Valid(c.buf[s:e]) {
			return fmt.Errorf("not JSON: %s", syntax(ch, "looking for beginning of value"))
		}
		return errNotFeatureCollection
	}
	c.pos++
	var (
		typ      string
		sawArray bool
		single   = map[string]json.RawMessage{}
	)
	ch, ok = c.space()
	if !ok {
		return c.eofErr()
	}
	if ch == '}' {
		c.pos++
	}
	for ch != '}' {
		if ch != '"' {
			return syntax(ch, "looking for beginning of object key string")
		}
		var key string
		if err := c.decodeValue(&key); err != nil {
			return err
		}
		if ch, ok := c.space(); !ok {
			return c.eofErr()
		} else if ch != ':' {
			return syntax(ch, "after object key")
		}
		c.pos++
		switch key {
		case "type":
			if err := c.decodeValue(&typ); err != nil {
				return fmt.Errorf("type: %w", err)
			}
		case "features":
			ch, ok := c.space()
			if !ok {
				return c.eofErr()
			}
			if ch != '[' {
				s, e, err := c.value()
				if err != nil {
					return err
				}
				if !json.Valid(c.buf[s:e]) {
					var v any
					return json.Unmarshal(c.buf[s:e], &v)
				}
				if string(c.buf[s:e]) != "null" {
					return fmt.Errorf("features: not an array")
				}
				break
			}
			c.pos++
			sawArray = true
			if err := c.features(); err != nil {
				return err
			}
		case "id", "geometry", "properties":
			var raw json.RawMessage
			if err := c.decodeValue(&raw); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			single[key] = raw
		default:
			var raw json.RawMessage
			if err := c.decodeValue(&raw); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
		var err error
		if ch, err = c.separator('}', "looking for beginning of object key string", "after object key:value pair"); err != nil {
			return err
		}
	}
	switch typ {
	case "FeatureCollection":
		return nil
	case "Feature":
		f := &ingest.Feature{Type: typ, ID: single["id"], Geometry: single["geometry"], Properties: single["properties"]}
		if !c.send(&featureBatch{single: f, done: make(chan struct{})}) {
			return errStopped
		}
		return nil
	case "":
		if sawArray {
			return nil
		}
	}
	return errNotFeatureCollection
}

// features cuts the elements of a features array, after its '['.
func (c *cutter) features() error {
	ch, ok := c.space()
	if !ok {
		return c.eofErr()
	}
	if ch == ']' {
		c.pos++
		return c.flushed()
	}
	for {
		s, e, err := c.value()
		if err != nil {
			return fmt.Errorf("feature %d: %w", c.n+1, err)
		}
		c.n++
		if c.batch == nil {
			c.batch = &featureBatch{first: c.n, done: make(chan struct{})}
		}
		c.batch.spans = append(c.batch.spans, [2]int{s, e})
		if c.pos >= batchBytes {
			if err := c.flushed(); err != nil {
				return err
			}
		}
		if ch, err = c.separator(']', "looking for beginning of value", "after array element"); err != nil {
			return err
		}
		if ch == ']' {
			return c.flushed()
		}
	}
}

// flushed is flush as an error.
func (c *cutter) flushed() error {
	if !c.flush() {
		return errStopped
	}
	return nil
}
