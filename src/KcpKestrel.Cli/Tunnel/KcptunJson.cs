using System.Text.Json;

namespace KcpKestrel.Cli.Tunnel;

/// <summary>
/// kcptun's <c>-c config.json</c>: read after the flags, so a key present in the file overrides the flag, as in
/// kcptun. Keys match case-insensitively and unknown keys are ignored, as Go's encoding/json does; a value of the
/// wrong type is an error naming the key.
/// </summary>
internal static class KcptunJson
{
    public static void Apply(KcptunConfig config, string json, string source)
    {
        ArgumentNullException.ThrowIfNull(config);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{source}: not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new UsageException($"{source}: expected a JSON object of kcptun keys.");
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = Find(property.Name, config.Side);
                if (key is null || property.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                key.Set(config, Read(key, property.Value, source));
            }
        }
    }

    private static KcptunKey? Find(string name, TunnelSide side)
    {
        foreach (var key in KcptunKeys.All)
        {
            if (key.AppliesTo(side) && string.Equals(key.JsonName, name, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }

    private static object Read(KcptunKey key, JsonElement value, string source)
    {
        switch (key.Kind)
        {
            case KcptunKeyKind.String when value.ValueKind == JsonValueKind.String:
                return value.GetString()!;
            case KcptunKeyKind.Int when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number):
                return number;
            case KcptunKeyKind.Bool when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                return value.GetBoolean();
            default:
                var expected = key.Kind switch
                {
                    KcptunKeyKind.String => "a string",
                    KcptunKeyKind.Int => "a whole number",
                    _ => "true or false",
                };
                throw new UsageException($"{source}: \"{key.Name}\" is {value.GetRawText()}; expected {expected}.");
        }
    }
}
