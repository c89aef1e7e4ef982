package static

// NoHistory implements providers.PresentOnly: recorded values carry no
// time, so every past window would read the same.
func (p *Provider) NoHistory() string {
	return "its recorded values carry no timestamps, so every past window would read the same numbers"
}
