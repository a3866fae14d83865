# Answers questions about Jekyll's own functions, for tests/test_urls_differential.py.
#
# Reads a JSON list of requests on stdin, writes a JSON list of answers on stdout, one per
# request, each {"ok": value} or {"error": "Class: message"}. Every answer comes from the
# installed Jekyll and the libraries it loads (Psych, Addressable, Ruby's Time), never from
# a reimplementation. Requests: ["slugify", text, mode, cased], ["escape_path", text],
# ["absolute_url", url, baseurl, input], ["parse_date", text, zone], ["yaml", text, zone],
# ["fnmatch", pattern, path], ["extname", path], ["basename", path], ["downcase", text],
# ["split", text], ["normalize", text], ["encode", text].
require "jekyll"
require "json"

SiteStub = Struct.new(:config, :filter_cache)

class UrlFilterHarness
  include Jekyll::Filters::URLFilters

  def initialize(url, baseurl)
    site = SiteStub.new({ "url" => url, "baseurl" => baseurl }, {})
    @context = Liquid::Context.new({}, {}, { :site => site })
  end
end

def time_text(time)
  time.strftime("%Y-%m-%dT%H:%M:%S.%6N%:z")
end

def describe(value)
  case value
  when Time then { "type" => "Time", "value" => time_text(value), "to_s" => value.to_s }
  when Date then { "type" => "Date", "value" => value.to_s, "to_s" => value.to_s }
  when Float
    { "type" => "Float", "value" => value.nan? || value.infinite? ? nil : value,
      "to_s" => value.to_s }
  when Hash then { "type" => "Hash", "value" => value.to_h { |k, v| [k.to_s, describe(v)] } }
  when Array then { "type" => "Array", "value" => value.map { |v| describe(v) } }
  else { "type" => value.class.name, "value" => value, "to_s" => value.to_s }
  end
end

def answer(request)
  op, *args = request
  case op
  when "slugify" then Jekyll::Utils.slugify(args[0], :mode => args[1], :cased => args[2])
  when "escape_path" then Jekyll::URL.escape_path(args[0])
  when "absolute_url" then UrlFilterHarness.new(args[0], args[1]).absolute_url(args[2])
  when "parse_date"
    ENV["TZ"] = args[1]
    Jekyll::Utils.instance_variable_set(:@parse_date_cache, {})
    time_text(Jekyll::Utils.parse_date(args[0]))
  when "yaml"
    ENV["TZ"] = args[1]
    describe(Jekyll::Utils.safe_load_yaml(args[0]))
  when "fnmatch" then File.fnmatch?(args[0], args[1])
  when "extname" then File.extname(args[0])
  when "basename" then File.basename(args[0], ".*")
  when "downcase" then args[0].downcase
  when "split" then args[0].split
  when "normalize" then Addressable::URI.parse(args[0]).normalize.to_s
  when "encode" then Addressable::URI.encode(args[0])
  else raise ArgumentError, "unknown request #{op}"
  end
end

answers = JSON.parse($stdin.read).map do |request|
  { "ok" => answer(request) }
rescue StandardError, Psych::Exception => e
  { "error" => "#{e.class}: #{e.message}" }
end
$stdout.write(JSON.generate(answers))
