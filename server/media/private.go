package media

import (
	"net/url"
	"strings"
)

// signatureParams are the query parameters by which the common CDNs sign a URL that
// expires: Amazon S3 and CloudFront, Google Cloud Storage, Azure (SAS), Akamai, nginx's
// secure_link, and the generic names many of them share. Keys are compared lower-cased.
var signatureParams = map[string]bool{
	"x-amz-signature": true, "x-amz-security-token": true, "signature": true, "key-pair-id": true, "policy": true,
	"x-goog-signature": true, "sig": true, "se": true, "hdnts": true, "__token__": true, "hmac": true,
	"md5": true, "expires": true, "exp": true, "token": true,
}

// Private reports whether the image at rawURL is no use outside this server: it lives on
// the API host, behind the token, or it is signed and will expire. A feed then carries
// our copy rather than the original.
func (l *Library) Private(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	if l.fetch.api != "" && hostPort(u) == l.fetch.api {
		return true
	}
	for k := range u.Query() {
		if signatureParams[strings.ToLower(k)] {
			return true
		}
	}
	return false
}
