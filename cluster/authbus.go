package cluster

// OnAuthChanged registers fn for the notifications on channel, by which
// the store of any node tells that it changed an access key or an account
// (sqlstore.AuthChannel), and for every (re)connection of the listener
// with payload "": notifications sent while it was down are lost, so
// everything cached may be stale. The PostgreSQL store's AuthChanged is
// the fn.
func (b *PostgresBus) OnAuthChanged(channel string, fn func(payload string)) {
	b.listener.Handle(channel, fn)
	b.listener.OnConnect(func() { fn("") })
}
