using System.Globalization;
using System.Text.Json;

namespace KcpKestrel.Interop.Tests.Qpp;

/// <summary>
/// tests/GoVectors/qpp/vectors.json: what xtaci/qpp v1.1.25 (as kcptun vendors it) derives and
/// produces, generated once by tests/GoVectors/qpp (qpp is not in Debian, so CI does not rebuild it).
/// </summary>
internal static class QppVectors
{
    private static readonly Lazy<IReadOnlyList<Case>> s_cases = new(Load);

    public static IReadOnlyList<Case> Cases => s_cases.Value;

    public static Case Named(string name) => Cases.Single(c => c.Name == name);

    private static List<Case> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepositoryRoot.Combine("tests", "GoVectors", "qpp", "vectors.json")));
        var cases = new List<Case>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var prng = c.GetProperty("prng");
            var streams = c.GetProperty("streams").EnumerateArray().Select(s => new StreamRun(
                s.GetProperty("name").GetString()!,
                s.GetProperty("direction").GetString() == "encrypt",
                s.GetProperty("writes").ValueKind == JsonValueKind.Array ? s.GetProperty("writes").EnumerateArray().Select(w => w.GetInt32()).ToArray() : [],
                Convert.FromHexString(s.GetProperty("input").GetString()!),
                Convert.FromHexString(s.GetProperty("output").GetString()!))).ToList();
            cases.Add(new Case(
                c.GetProperty("name").GetString()!,
                Convert.FromHexString(c.GetProperty("key").GetString()!),
                c.GetProperty("padCount").GetInt32(),
                Convert.FromHexString(c.GetProperty("pads").GetString()!),
                prng.GetProperty("xoshiro").EnumerateArray().Select(x => Hex64(x.GetString()!)).ToArray(),
                Hex64(prng.GetProperty("seed64").GetString()!),
                streams));
        }

        return cases;
    }

    private static ulong Hex64(string hex) => ulong.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>One key and pad count: the pads, the PRNG's starting state, and streams through it.</summary>
    internal sealed record Case(string Name, byte[] Key, int PadCount, byte[] Pads, ulong[] Xoshiro, ulong Seed64, IReadOnlyList<StreamRun> Streams);

    /// <summary>One direction of a fresh stream: <see cref="Input"/> cut into <see cref="Writes"/> (then the rest) gives <see cref="Output"/>.</summary>
    internal sealed record StreamRun(string Name, bool Encrypt, int[] Writes, byte[] Input, byte[] Output);
}
