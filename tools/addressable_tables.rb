# Writes syncd/sites/addressable_tables.py: the Unicode data Addressable's pure-Ruby NFKC uses.
#
# Jekyll's absolute_url filter normalises every URL with Addressable, whose pure-Ruby IDNA
# module carries its own (old) Unicode tables; Python's unicodedata is newer and disagrees on
# about 1,700 code points. syncd ships these tables so its URLs match Jekyll's exactly.
#
# Usage: ruby tools/addressable_tables.rb > syncd/sites/addressable_tables.py
require "addressable/idna/pure"
require "addressable/version"

data = Addressable::IDNA.const_get(:UNICODE_DATA)
combining = []
compat = []
lowercase = []
data.keys.sort.each do |cp|
  entry = data[cp]
  lowercase << "#{cp.to_s(16)}:#{entry[5].to_s(16)}" if entry[5] && entry[5] != cp
  combining << "#{cp.to_s(16)}:#{entry[0].to_s(16)}" if entry[0] && entry[0] != 0
  compat << "#{cp.to_s(16)}:#{entry[3].unpack("U*").map { |c| c.to_s(16) }.join(" ")}" if entry[3]
end
pairs = Addressable::IDNA.const_get(:COMPOSITION_TABLE).map do |bytes, composite|
  first, second = bytes.pack("C*").force_encoding("UTF-8").unpack("U*")
  "#{first.to_s(16)} #{second.to_s(16)}:#{composite.to_s(16)}"
end.sort

# Lines of at most 100 characters (ruff's limit): four spaces, quotes, items each ending in ";".
def chunks(items)
  lines = [+""]
  items.each do |item|
    lines << +"" if lines.last.length + item.length + 1 > 94
    lines.last << item << ";"
  end
  lines.map { |line| "    \"#{line}\"" }.join("\n")
end

puts <<~PY
  """Addressable #{Addressable::VERSION::STRING}'s Unicode tables for NFKC (generated; do not edit).

  Made by ``ruby tools/addressable_tables.rb``: Jekyll's ``absolute_url`` normalises URLs with
  Addressable's pure-Ruby NFKC, whose tables predate Python's ``unicodedata``. Each table is
  ``key:value;`` text in hexadecimal, parsed once by :mod:`syncd.sites.ruby`.
  """

  COMBINING_CLASS = (
  #{chunks(combining)}
  )

  COMPATIBILITY = (
  #{chunks(compat)}
  )

  COMPOSITION = (
  #{chunks(pairs)}
  )

  LOWERCASE = (
  #{chunks(lowercase)}
  )
PY
