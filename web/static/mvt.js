// A small decoder of Mapbox Vector Tiles (version 2.1): a tile is a
// protocol buffer of layers, each with its features' properties (keys and
// values shared by the layer) and geometry as commands over zigzagged
// varints (https://github.com/mapbox/vector-tile-spec). Only what a tile
// holds is read; unknown fields are skipped.

// Reader reads protocol buffer fields from bytes.
class Reader {
  constructor(buf, pos = 0, end = buf.length) { this.buf = buf; this.pos = pos; this.end = end; }

  // varint reads an unsigned varint as a Number (exact up to 2^53).
  varint() {
    let v = 0, mul = 1, b;
    do {
      if (this.pos >= this.end) throw new Error('mvt: truncated varint');
      b = this.buf[this.pos++];
      v += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return v;
  }

  // svarint reads a zigzagged varint.
  svarint() { const v = this.varint(); return v % 2 ? -(v + 1) / 2 : v / 2; }

  // bytes returns a reader over a length-delimited field.
  bytes() {
    const n = this.varint(), start = this.pos;
    this.pos += n;
    if (this.pos > this.end) throw new Error('mvt: truncated field');
    return new Reader(this.buf, start, this.pos);
  }

  string() { const r = this.bytes(); return new TextDecoder().decode(this.buf.subarray(r.pos, r.end)); }

  float() { const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true); this.pos += 4; return v; }

  double() { const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true); this.pos += 8; return v; }

  // packed reads a packed repeated varint field.
  packed() {
    const r = this.bytes(), out = [];
    while (r.pos < r.end) out.push(r.varint());
    return out;
  }

  // fields calls f(field number, wire type) for each field; f reads the
  // field or returns false to have it skipped.
  fields(f) {
    while (this.pos < this.end) {
      const tag = this.varint(), field = Math.floor(tag / 8), type = tag & 7;
      if (!f(field, type)) this.skip(type);
    }
  }

  skip(type) {
    switch (type) {
      case 0: this.varint(); break;
      case 1: this.pos += 8; break;
      case 2: this.pos += this.varint(); break;
      case 5: this.pos += 4; break;
      default: throw new Error('mvt: unknown wire type ' + type);
    }
  }
}

function value(r) {
  let v = null;
  r.fields((f) => {
    switch (f) {
      case 1: v = r.string(); return true;
      case 2: v = r.float(); return true;
      case 3: v = r.double(); return true;
      case 4: case 5: v = r.varint(); return true; // int64 as written by most encoders: not negative here
      case 6: v = r.svarint(); return true;
      case 7: v = !!r.varint(); return true;
    }
    return false;
  });
  return v;
}

// geometry turns a feature's commands into parts: lists of [x, y] in tile
// units (a point's parts are single points; a polygon's are its rings).
function geometry(cmds) {
  const parts = [];
  let x = 0, y = 0, part = null;
  const zz = (v) => (v % 2 ? -(v + 1) / 2 : v / 2);
  for (let i = 0; i < cmds.length;) {
    const c = cmds[i] & 7, n = Math.floor(cmds[i] / 8);
    i++;
    if (c === 7) { if (part && part.length) part.push(part[0]); continue; }
    for (let k = 0; k < n; k++) {
      x += zz(cmds[i++]);
      y += zz(cmds[i++]);
      if (c === 1) { part = []; parts.push(part); }
      part.push([x, y]);
    }
  }
  return parts;
}

// decodeTile returns the layers of a tile (bytes): {name, extent,
// features: [{id, type (1 point, 2 line, 3 polygon), props, parts}]}.
export function decodeTile(bytes) {
  const tile = new Reader(bytes), layers = [];
  tile.fields((f, type) => {
    if (f !== 3 || type !== 2) return false;
    const r = tile.bytes(), keys = [], values = [], raw = [];
    const layer = { name: '', extent: 4096, features: [] };
    r.fields((lf) => {
      switch (lf) {
        case 1: layer.name = r.string(); return true;
        case 2: raw.push(r.bytes()); return true;
        case 3: keys.push(r.string()); return true;
        case 4: values.push(value(r.bytes())); return true;
        case 5: layer.extent = r.varint(); return true;
      }
      return false;
    });
    for (const fr of raw) {
      const feat = { id: undefined, type: 0, props: {}, parts: [] };
      let tags = [], cmds = [];
      fr.fields((ff) => {
        switch (ff) {
          case 1: feat.id = fr.varint(); return true;
          case 2: tags = fr.packed(); return true;
          case 3: feat.type = fr.varint(); return true;
          case 4: cmds = fr.packed(); return true;
        }
        return false;
      });
      for (let i = 0; i + 1 < tags.length; i += 2) feat.props[keys[tags[i]]] = values[tags[i + 1]];
      feat.parts = geometry(cmds);
      layer.features.push(feat);
    }
    layers.push(layer);
    return true;
  });
  return layers;
}
