package mail_test

import "mime"

type mimeDecoder = mime.WordDecoder
