package screening

// multiMap maps a 64-bit hash to one or more vocabulary ids without a
// slice per key, while an index is built (freeze makes a hashTable of it): most keys hold a single id, stored inline; keys with more
// point into an overflow table. It keeps index builds fast and light on the
// garbage collector (about a million keys for the SDN list).
type multiMap struct {
	m    map[uint64]uint32
	over [][]int32
}

const overflowBit = 1 << 31

func newMultiMap(size int) multiMap {
	return multiMap{m: make(map[uint64]uint32, size)}
}

// add records id under h once.
func (mm *multiMap) add(h uint64, id int32) {
	v, ok := mm.m[h]
	switch {
	case !ok:
		mm.m[h] = uint32(id)
	case v&overflowBit == 0:
		if int32(v) != id {
			mm.over = append(mm.over, []int32{int32(v), id})
			mm.m[h] = overflowBit | uint32(len(mm.over)-1)
		}
	default:
		o := &mm.over[v&^overflowBit]
		for _, x := range *o {
			if x == id {
				return
			}
		}
		*o = append(*o, id)
	}
}
