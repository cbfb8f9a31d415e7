using KcpKestrel.Core.Fec;

namespace KcpKestrel.Core.Tests.Fec;

internal static class FecTestData
{
    /// <summary>Kernel names (the enum is internal, theory parameters are public).</summary>
    public static TheoryData<string> SupportedKernels()
    {
        var data = new TheoryData<string>();
        foreach (var k in Enum.GetValues<GfKernel>())
        {
            if (GaloisKernels.IsSupported(k))
            {
                data.Add(k.ToString());
            }
        }

        return data;
    }

    public static GfKernel Kernel(string name) => Enum.Parse<GfKernel>(name);

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Fec", "TestData", file);

    /// <summary>splitmix64, the generator the Go vector program fills data shards with.</summary>
    public static void FillSplitMix(byte[][] shards, int count, int size, ulong seed)
    {
        var s = seed;
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < size; j += 8)
            {
                s += 0x9E3779B97F4A7C15;
                var z = s;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
                z ^= z >> 31;
                for (var b = 0; b < 8 && j + b < size; b++)
                {
                    shards[i][j + b] = (byte)(z >> (8 * b));
                }
            }
        }
    }

    public static byte[][] NewShards(int count, int size)
    {
        var shards = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            shards[i] = new byte[size];
        }

        return shards;
    }

    /// <summary>The kcp-go capture: per case (k, m) the datagrams in send order.</summary>
    public static List<(int DataShards, int ParityShards, List<byte[]> Packets)> KcpGoPackets()
    {
        var cases = new List<(int, int, List<byte[]>)>();
        List<byte[]>? current = null;
        int k = 0, m = 0;
        foreach (var line in File.ReadLines(PathOf("kcpgo-fec-packets.txt")))
        {
            if (line.StartsWith("case ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                k = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                m = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
                current = [];
            }
            else if (line == "end")
            {
                cases.Add((k, m, current!));
                current = null;
            }
            else if (current is not null && line.Length > 0)
            {
                current.Add(Convert.FromHexString(line));
            }
        }

        return cases;
    }
}
