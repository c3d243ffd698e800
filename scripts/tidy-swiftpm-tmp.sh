#!/usr/bin/env bash
# SwiftPM 6.3 leaves empty /tmp/TemporaryDirectory.XXXXXX folders (holding only an empty
# .keep-directory file) behind on every build and test run. Remove exactly those.
for d in /tmp/TemporaryDirectory.*; do
  [ -d "$d" ] || continue
  entries=$(ls -A "$d" 2>/dev/null)
  if [ "$entries" = ".keep-directory" ] && [ ! -s "$d/.keep-directory" ]; then rm -rf "$d"; fi
done
exit 0
