"""Pure detection kernels: one partition (a vessel track, or a time-bin x cell bucket) in, events out."""
