package api

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"
	"unsafe"
)

// A whole layer (a layer asked for without a query) is joined from its
// features' bytes on its first plain request after a publication (once,
// whoever asks) and kept with the catalog. Its gzip is a deflate stream of
// segments, runs of features each compressed on its own and ending on a
// byte boundary (a sync flush), so that a segment whose features did not
// change since the layer was last compressed is reused as it is. Segment
// boundaries follow the features' ids (a feature ends a segment when its
// id hashes so), so inserting or dropping a feature disturbs only its own
// segment. The gzip, too, is put together on its first request after a
// publication.

const (
	layerHead = `{"type":"FeatureCollection","features":[`
	layerTail = "\n]}\n"
)

// wholeLayer is the features a layer request without a query gets: the
// first MaxLimit of an areas, holes or teams collection, and the newest
// MaxLimit reports, newest first.
type wholeLayer struct {
	feats   []ogcFeature
	reverse bool
}

func (c *ogcCatalog) whole(layer string) wholeLayer {
	var f []ogcFeature
	if layer == "reports" {
		// The newest, made and encoded for this layer (see featureJSON).
		col := c.cols[layer]
		lo := max(0, col.size()-MaxLimit)
		fs := make([]ogcFeature, col.size()-lo)
		for i, b := range col.encodedFrom(lo) {
			col.featureAt(lo+i, &fs[i])
			fs[i].json = b
		}
		return wholeLayer{feats: fs, reverse: true}
	}
	if col := c.cols[layer]; col != nil {
		f = col.features
	} else {
		// A layer simplified for a zoom (see zoomKey), made by
		// layerFeatures before its body is asked for.
		c.mu.Lock()
		f = c.simplified[layer]
		c.mu.Unlock()
	}
	return wholeLayer{feats: f[:min(len(f), MaxLimit)]}
}

func (wl wholeLayer) at(i int) *ogcFeature {
	if wl.reverse {
		return &wl.feats[len(wl.feats)-1-i]
	}
	return &wl.feats[i]
}

type lineWriter interface {
	Write([]byte) (int, error)
	WriteByte(byte) error
}

// writeFeatureLine joins feature f into a collection: after a comma
// unless it is the first, on a line of its own.
func writeFeatureLine(w lineWriter, first bool, f []byte) {
	if !first {
		w.WriteByte(',')
	}
	w.WriteByte('\n')
	w.Write(f)
}

// layerSegment is a run of features of a whole layer, deflated on its own.
type layerSegment struct {
	// first is true when the run starts the layer (no comma before it).
	first bool
	// keys are the first bytes of the features' encodings: the same
	// pointers are the same bytes, as encodings are never modified.
	keys []*byte
	z    []byte // deflate blocks ending in a sync flush
	crc  uint32 // CRC-32 of the text
	n    int64  // length of the text
}

// layerSegments are the segments a layer's last gzip was made of, by the
// first key of each.
type layerSegments map[*byte]*layerSegment

// layerBody is one catalog's whole layer, plain and gzipped, each made
// once on first use.
type layerBody struct {
	plainOnce sync.Once
	plain     []byte

	gzOnce sync.Once
	segs   []*layerSegment
	crc    uint32
	n      int64 // length of the plain body
	clen   int64 // length of the gzip body
	// deflated counts the segments compressed for this gzip; the others
	// were the layer's last gzip's.
	deflated int
}

func newLayerBodies() map[string]*layerBody {
	m := map[string]*layerBody{}
	for _, info := range ogcCollectionInfo {
		m[info.id] = &layerBody{}
	}
	m[outlineKey] = &layerBody{}
	return m
}

// body returns the body of a layer: one of those newLayerBodies made, or
// that of a layer simplified for a zoom (see zoomKey), made on first use
// and kept with the catalog, so each zoom's bytes and gzip are made once
// for each version of the layer.
func (c *ogcCatalog) body(layer string) *layerBody {
	if b := c.bodies[layer]; b != nil {
		return b
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.zoomBodies == nil {
		c.zoomBodies = map[string]*layerBody{}
	}
	b := c.zoomBodies[layer]
	if b == nil {
		b = &layerBody{}
		c.zoomBodies[layer] = b
	}
	return b
}

// Segments end after a feature whose id's hash is 0 modulo segMask+1 (so
// about every 128 features), or at segMaxFeatures or segMaxBytes.
const (
	segMask        = 127
	segMaxFeatures = 1024
	segMaxBytes    = 64 << 10
)

func idHash(id string) uint32 {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h
}

// plain returns the whole layer of c, joining it the first time.
func (c *ogcCatalog) plain(layer string) []byte {
	b := c.body(layer)
	b.plainOnce.Do(func() {
		wl := c.whole(layer)
		n := len(layerHead) + len(layerTail)
		for i := range wl.feats {
			n += len(wl.feats[i].json) + 2
		}
		p := bytes.NewBuffer(make([]byte, 0, n))
		p.WriteString(layerHead)
		for i := range wl.feats {
			writeFeatureLine(p, i == 0, wl.at(i).json)
		}
		p.WriteString(layerTail)
		b.plain = p.Bytes()
	})
	return b.plain
}

// gzip returns the whole layer of c with its gzip, making it the first
// time.
func (c *ogcCatalog) gzip(layer string) *layerBody {
	b := c.body(layer)
	b.gzOnce.Do(func() { b.deflate(c.whole(layer), c.shared, layer) })
	return b
}

// deflate puts the gzip of wl together from segments, reusing those of
// the layer's last gzip whose features are the same.
func (b *layerBody) deflate(wl wholeLayer, cache *ogcCache, layer string) {
	cache.segMu.Lock()
	prev := cache.segs[layer]
	cache.segMu.Unlock()
	next := layerSegments{}
	head, tail := gzEnds()
	b.crc, b.n = head.crc, head.n
	b.clen = int64(len(gzipHeader)+len(head.z)+len(tail.z)) + 8
	for i := 0; i < len(wl.feats); {
		j, size := i, 0
		for j < len(wl.feats) {
			f := wl.at(j)
			j++
			size += len(f.json) + 2
			if idHash(f.id)&segMask == 0 || j-i >= segMaxFeatures || size >= segMaxBytes {
				break
			}
		}
		seg := prev.find(wl, i, j)
		if seg == nil {
			seg = deflateRun(wl, i, j)
			b.deflated++
		}
		next[seg.keys[0]] = seg
		b.segs = append(b.segs, seg)
		b.crc = crc32Combine(b.crc, seg.crc, seg.n)
		b.n += seg.n
		b.clen += int64(len(seg.z))
		i = j
	}
	b.crc = crc32Combine(b.crc, tail.crc, tail.n)
	b.n += tail.n
	cache.segMu.Lock()
	if cache.segs == nil {
		cache.segs = map[string]layerSegments{}
	}
	cache.segs[layer] = next
	cache.segMu.Unlock()
}

// find returns the segment made of features i to j of wl, if there is one.
func (ss layerSegments) find(wl wholeLayer, i, j int) *layerSegment {
	s := ss[unsafe.SliceData(wl.at(i).json)]
	if s == nil || s.first != (i == 0) || len(s.keys) != j-i {
		return nil
	}
	for k, key := range s.keys {
		if f := wl.at(i + k).json; unsafe.SliceData(f) != key || len(f) == 0 {
			return nil
		}
	}
	return s
}

// deflateRun compresses features i to j of wl as a segment.
func deflateRun(wl wholeLayer, i, j int) *layerSegment {
	s := &layerSegment{first: i == 0, keys: make([]*byte, 0, j-i)}
	var text bytes.Buffer
	for k := i; k < j; k++ {
		f := wl.at(k).json
		s.keys = append(s.keys, unsafe.SliceData(f))
		writeFeatureLine(&text, k == 0, f)
	}
	s.z, s.crc, s.n = deflate(text.Bytes(), false), crc32.ChecksumIEEE(text.Bytes()), int64(text.Len())
	return s
}

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // a valid level cannot fail
	return w
}}

// deflate compresses text on its own, ending the stream when final and
// with a sync flush otherwise.
func deflate(text []byte, final bool) []byte {
	var z bytes.Buffer
	fw := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(fw)
	fw.Reset(&z)
	fw.Write(text) // writing to a bytes.Buffer cannot fail
	if final {
		fw.Close()
	} else {
		fw.Flush()
	}
	return z.Bytes()
}

// gzEnds are the segments of a layer's head and of its tail, which ends
// the deflate stream.
var gzEnds = sync.OnceValues(func() (head, tail *layerSegment) {
	seg := func(text string, final bool) *layerSegment {
		return &layerSegment{z: deflate([]byte(text), final), crc: crc32.ChecksumIEEE([]byte(text)), n: int64(len(text))}
	}
	return seg(layerHead, false), seg(layerTail, true)
})

// gzipHeader is a gzip member header without name or time, as
// compress/gzip writes it at BestSpeed.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff}

// writeGzip writes the gzip body (made by ogcCatalog.gzip): header,
// segments, trailer.
func (b *layerBody) writeGzip(w io.Writer) error {
	head, tail := gzEnds()
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:4], b.crc)
	binary.LittleEndian.PutUint32(t[4:], uint32(b.n))
	parts := make([][]byte, 0, len(b.segs)+4)
	parts = append(parts, gzipHeader, head.z)
	for _, s := range b.segs {
		parts = append(parts, s.z)
	}
	for _, p := range append(parts, tail.z, t[:]) {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// crc32Combine returns the CRC-32 (IEEE) of a text whose first part has
// CRC crc1 and whose second, of length n2, has crc2 (zlib's
// crc32_combine).
func crc32Combine(crc1, crc2 uint32, n2 int64) uint32 {
	return multModP(x8nModP(n2), crc1) ^ crc2
}

// multModP multiplies a (not 0) and b modulo the CRC polynomial, in the
// reflected bit order CRC-32 uses.
func multModP(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crc32.IEEE
		} else {
			b >>= 1
		}
	}
	return p
}

// x2n[k] is x^(2^k) modulo the CRC polynomial.
var x2n = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multModP(p, p)
		t[k] = p
	}
	return t
}()

// x8nModP is x^(8n) modulo the CRC polynomial: appending n zero bytes.
func x8nModP(n int64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n > 0; k, n = k+1, n>>1 {
		if n&1 != 0 {
			p = multModP(x2n[k&31], p)
		}
	}
	return p
}
