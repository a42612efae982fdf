package testenv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"time"
)

// pingTimeout bounds one readiness probe.
const pingTimeout = 2 * time.Second

// dialProbe connects to addr for one readiness probe, with pingTimeout
// bounding the dial and the whole exchange.
func dialProbe(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, pingTimeout)
	if err != nil {
		return nil, err
	}
	if err := c.SetDeadline(time.Now().Add(pingTimeout)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// redisPing sends PING to the Redis server at addr and wants +PONG back (a
// server still loading its data answers -LOADING instead).
func redisPing(addr string) error {
	c, err := dialProbe(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimRight(line, "\r\n"); line != "+PONG" {
		return fmt.Errorf("redis PING: %q", line)
	}
	return nil
}

// MongoDB wire protocol: OP_MSG, the only opcode current servers speak.
const opMsg = 2013

// mongoPing runs the ping command on the MongoDB wire-protocol server at
// addr and wants {ok: 1} back.
func mongoPing(addr string) error {
	c, err := dialProbe(addr)
	if err != nil {
		return err
	}
	defer c.Close()

	// Command document {ping: 1, $db: "admin"}.
	var doc bytes.Buffer
	doc.Write([]byte{0, 0, 0, 0}) // length, filled in below
	doc.WriteByte(0x10)           // int32
	doc.WriteString("ping\x00")
	doc.Write(binary.LittleEndian.AppendUint32(nil, 1))
	doc.WriteByte(0x02) // string
	doc.WriteString("$db\x00")
	doc.Write(binary.LittleEndian.AppendUint32(nil, uint32(len("admin")+1)))
	doc.WriteString("admin\x00")
	doc.WriteByte(0)
	body := doc.Bytes()
	binary.LittleEndian.PutUint32(body, uint32(len(body)))

	// Header (length, requestID, responseTo, opCode), flags, section kind 0.
	msg := make([]byte, 0, 21+len(body))
	msg = binary.LittleEndian.AppendUint32(msg, uint32(21+len(body)))
	msg = binary.LittleEndian.AppendUint32(msg, 1)
	msg = binary.LittleEndian.AppendUint32(msg, 0)
	msg = binary.LittleEndian.AppendUint32(msg, opMsg)
	msg = binary.LittleEndian.AppendUint32(msg, 0)
	msg = append(msg, 0)
	msg = append(msg, body...)
	if _, err := c.Write(msg); err != nil {
		return err
	}

	var header [16]byte
	if _, err := io.ReadFull(c, header[:]); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(header[0:])
	if op := binary.LittleEndian.Uint32(header[12:]); op != opMsg {
		return fmt.Errorf("mongo ping: reply opcode %d", op)
	}
	if n < 16+5+5 || n > 1<<20 {
		return fmt.Errorf("mongo ping: reply length %d", n)
	}
	reply := make([]byte, n-16)
	if _, err := io.ReadFull(c, reply); err != nil {
		return err
	}
	// reply: flags (4), section kind (1), document.
	if reply[4] != 0 {
		return fmt.Errorf("mongo ping: reply section kind %d", reply[4])
	}
	ok, err := bsonNumber(reply[5:], "ok")
	if err != nil {
		return fmt.Errorf("mongo ping: %w", err)
	}
	if ok != 1 {
		return fmt.Errorf("mongo ping: ok=%v", ok)
	}
	return nil
}

// bsonNumber returns the numeric top-level field key of the BSON document
// doc (a double, int32 or int64).
func bsonNumber(doc []byte, key string) (float64, error) {
	if len(doc) < 5 {
		return 0, errors.New("short document")
	}
	end := int(binary.LittleEndian.Uint32(doc))
	if end > len(doc) || end < 5 {
		return 0, errors.New("bad document length")
	}
	doc = doc[4 : end-1]
	for len(doc) > 0 {
		typ := doc[0]
		i := bytes.IndexByte(doc[1:], 0)
		if i < 0 {
			return 0, errors.New("bad field name")
		}
		name := string(doc[1 : 1+i])
		doc = doc[2+i:]
		var size int
		switch typ {
		case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
			size = 8
		case 0x10: // int32
			size = 4
		case 0x08: // bool
			size = 1
		case 0x0A: // null
			size = 0
		case 0x07: // object id
			size = 12
		case 0x02: // string: length, bytes
			if len(doc) < 4 {
				return 0, errors.New("short string")
			}
			size = 4 + int(binary.LittleEndian.Uint32(doc))
		case 0x03, 0x04: // document, array
			if len(doc) < 4 {
				return 0, errors.New("short document")
			}
			size = int(binary.LittleEndian.Uint32(doc))
		default:
			return 0, fmt.Errorf("field %q: BSON type %#x not understood", name, typ)
		}
		if size < 0 || size > len(doc) {
			return 0, fmt.Errorf("field %q: truncated", name)
		}
		if name == key {
			switch typ {
			case 0x01:
				return math.Float64frombits(binary.LittleEndian.Uint64(doc)), nil
			case 0x10:
				return float64(int32(binary.LittleEndian.Uint32(doc))), nil
			case 0x12:
				return float64(int64(binary.LittleEndian.Uint64(doc))), nil
			}
			return 0, fmt.Errorf("field %q is BSON type %#x, not a number", name, typ)
		}
		doc = doc[size:]
	}
	return 0, fmt.Errorf("no field %q", key)
}
