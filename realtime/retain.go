package realtime

// docOverhead is what a message document costs a listener besides its
// strings: its name, timestamps, seq and the client library's bookkeeping.
const docOverhead = 300

// retainedSize estimates what one message document costs the listener that
// holds it: its strings, its member list (up to 256 uids) and overhead.
func retainedSize(p *Posted) int {
	m := p.Message
	n := docOverhead + len(m.ID) + len(m.ChatID) + len(m.SenderID) + len(m.SenderUsername) +
		len(m.Content) + len(m.FileURL) + len(m.FileName) + len(m.ClientMessageID)
	for _, id := range p.MemberIDs {
		n += len(id) + 16
	}
	return n
}
