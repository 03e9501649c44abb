package replay

// nonceSet holds the nonces by the minute they expire in, so that
// forgetting the expired ones drops whole maps instead of visiting every
// nonce (only the current minute's are visited); a lookup visits the few minutes still live (the signature
// window's, about 30).
type nonceSet struct {
	minutes map[int64]map[key]int64 // expiry minute -> key -> expiry (ms)
	live    int
}

func newNonceSet() nonceSet { return nonceSet{minutes: map[int64]map[key]int64{}} }

func minuteOf(ms int64) int64 {
	m := ms / 60000
	if ms < 0 && ms%60000 != 0 {
		m--
	}
	return m
}

// has reports whether k is recorded unexpired at now; an expired record of
// k is forgotten on the way.
func (s *nonceSet) has(k key, now int64) bool {
	for m, keys := range s.minutes {
		if e, ok := keys[k]; ok {
			if e > now {
				return true
			}
			s.forget(m, k)
			return false
		}
	}
	return false
}

// forget takes k out of minute m.
func (s *nonceSet) forget(m int64, k key) {
	keys := s.minutes[m]
	delete(keys, k)
	s.live--
	if len(keys) == 0 {
		delete(s.minutes, m)
	}
}

// add records k until expires; k must not be recorded (has returned
// false, or drop ran).
func (s *nonceSet) add(k key, expires int64) {
	m := minuteOf(expires)
	keys := s.minutes[m]
	if keys == nil {
		keys = map[key]int64{}
		s.minutes[m] = keys
	}
	keys[k] = expires
	s.live++
}

func (s *nonceSet) drop(k key) {
	for m, keys := range s.minutes {
		if _, ok := keys[k]; ok {
			s.forget(m, k)
			return
		}
	}
}

// apply adds the records of data (whole records), skipping damaged ones and
// those expired at now (0: none skipped for age). A later record of a key
// replaces an earlier one, as its append did.
func (s *nonceSet) apply(data []byte, now int64) {
	for i := 0; i+recordSize <= len(data); i += recordSize {
		k, e, ok := decode(data[i : i+recordSize])
		if !ok {
			continue
		}
		s.drop(k)
		if now == 0 || e > now {
			s.add(k, e)
		}
	}
}

// purge forgets the nonces expired at now (expires <= now): the minutes
// wholly past at once, the current minute's one by one.
func (s *nonceSet) purge(now int64) int {
	n := 0
	cur := minuteOf(now)
	for m, keys := range s.minutes {
		switch {
		case m < cur:
			n += len(keys)
			s.live -= len(keys)
			delete(s.minutes, m)
		case m == cur:
			for k, e := range keys {
				if e <= now {
					delete(keys, k)
					n++
					s.live--
				}
			}
			if len(keys) == 0 {
				delete(s.minutes, m)
			}
		}
	}
	return n
}

func (s *nonceSet) each(fn func(k key, expires int64)) {
	for _, keys := range s.minutes {
		for k, e := range keys {
			fn(k, e)
		}
	}
}
