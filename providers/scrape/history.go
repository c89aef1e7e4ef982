package scrape

// NoHistory implements providers.PresentOnly: the counters are scraped when
// asked, so only the present can be read.
func (p *Provider) NoHistory() string {
	return "it scrapes the targets' /metrics when asked and keeps no history older than the process: point a prometheus provider at a server that scrapes them"
}
