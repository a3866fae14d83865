# Answers "what does Jekyll make of this front matter date?", for tests/test_ruby_time.py.
#
# Reads JSON {"zones": [...], "dates": [...]} on stdin; writes a JSON list with one answer
# per date: {"parse": Date._parse(date) (Rationals as "n/d"), "zones": {zone: answer}} where
# each answer is {"ok": time} (Jekyll::Utils.parse_date, which is Time.parse(date).localtime,
# with ENV["TZ"] = zone as Jekyll sets it from `timezone`) or {"error": "Class: message"}.
require "jekyll"
require "json"

def plain(value)
  value.is_a?(Rational) ? "#{value.numerator}/#{value.denominator}" : value
end

request = JSON.parse($stdin.read)
answers = request["dates"].map do |date|
  parsed = begin
    Date._parse(date).to_h { |key, value| [key.to_s, plain(value)] }
  rescue StandardError => e
    { "error" => "#{e.class}: #{e.message}" }
  end
  { "parse" => parsed, "zones" => {} }
end
request["zones"].each do |zone|
  ENV["TZ"] = zone
  request["dates"].each_with_index do |date, i|
    Jekyll::Utils.instance_variable_set(:@parse_date_cache, {})
    answers[i]["zones"][zone] = begin
      { "ok" => Jekyll::Utils.parse_date(date).strftime("%Y-%m-%dT%H:%M:%S.%6N%:z") }
    rescue StandardError => e
      { "error" => "#{e.class}: #{e.cause ? e.cause.message : e.message}" }
    end
  end
end
$stdout.write(JSON.generate(answers))
