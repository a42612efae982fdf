package storekit

// The compact records of redisstore and cookiestore, and memstore's
// session layout, write integers as unsigned LEB128 varints, the format of
// encoding/binary's AppendUvarint, and signed ones zigzag-encoded first.

// AppendUvarint appends v to b as an unsigned varint.
func AppendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// Uvarint decodes the unsigned varint at the start of s and returns it and
// the number of bytes it took. n is 0 when s ends inside the varint, the
// value overflows 64 bits, or the encoding is not the shortest (a final
// zero byte after the first), so that every value has one encoding. It takes a string or a byte slice, so that
// decoders reading from either need no conversion.
func Uvarint[S ~string | ~[]byte](s S) (v uint64, n int) {
	for i := 0; i < 10 && i < len(s); i++ {
		c := s[i]
		if i == 9 && c > 1 {
			return 0, 0 // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, 0 // not the shortest encoding
			}
			return v, i + 1
		}
	}
	return 0, 0
}

// UvarintLen returns the number of bytes AppendUvarint writes for v.
func UvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// Zigzag maps a signed integer to an unsigned one so that small magnitudes
// stay small: 0, -1, 1, -2 become 0, 1, 2, 3.
func Zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// Unzigzag reverses Zigzag.
func Unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
