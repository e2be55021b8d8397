redis_up() { (exec 3<>/dev/tcp/127.0.0.1/16379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if redis_up; then echo up; else echo down; fi
