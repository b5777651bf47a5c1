print("ratelimit")
