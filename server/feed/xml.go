package feed

import "encoding/xml"

// RSS 2.0 and Atom are written with encoding/xml rather than a feed library: the one we
// used could not express what validators and readers need, namely RSS's dc:creator (RSS
// <author> must be an e-mail address), its atom:link rel="self", and Atom's self link.

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

func marshalXML(v any) ([]byte, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}
