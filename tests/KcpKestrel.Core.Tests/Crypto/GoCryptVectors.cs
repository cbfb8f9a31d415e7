namespace KcpKestrel.Core.Tests.Crypto;

/// <summary>Vectors printed by tests/GoVectors/crypt/main.go on Debian's kcp-go 5.6.1.</summary>
internal static class GoCryptVectors
{
    /// <summary>The password the Go program derives its keys from.</summary>
    public const string Password = "it's a secrect";

    private static readonly Lazy<IReadOnlyList<Vector>> All = new(Load);

    public static IReadOnlyList<Vector> Vectors => All.Value;

    public static IEnumerable<object[]> Modes()
    {
        var seen = new HashSet<string>();
        foreach (var v in Vectors)
        {
            if (seen.Add(v.Mode))
            {
                yield return new object[] { v.Mode };
            }
        }
    }

    private static List<Vector> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Crypto", "TestData", "crypt-vectors.txt");
        var list = new List<Vector>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var f = line.Split(' ');
            list.Add(new Vector(f[0], Convert.FromHexString(f[1]), Convert.FromHexString(f[2]), Convert.FromHexString(f[3]), Convert.FromHexString(f[4])));
        }

        return list;
    }

    public sealed record Vector(string Mode, byte[] Key, byte[] Nonce, byte[] Payload, byte[] Datagram);
}
