using System.Diagnostics;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// Nothing lost or corrupted at 10% loss, 2% reordering, 1% duplication and 0.1% bit corruption,
/// per cipher family, with and without FEC. CI moves a few MiB per case; the reliability run sets
/// KCPKESTREL_RELIABILITY_MIB=256.
/// </summary>
public sealed class HeavyLossTests(ITestOutputHelper output)
{
    private static readonly int MiB =
        int.TryParse(Environment.GetEnvironmentVariable("KCPKESTREL_RELIABILITY_MIB"), out var n) ? n : 4;

    public static TheoryData<string, int, int> Cases => new()
    {
        { "aes", 0, 0 }, { "aes", 10, 3 },
        { "salsa20", 0, 0 }, { "salsa20", 10, 3 },
        { "xor", 0, 0 }, { "xor", 10, 3 },
        { "aes-256-gcm", 0, 0 }, { "aes-256-gcm", 10, 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Echo_AtTenPercentLoss_NothingLostOrCorrupted(string crypt, int dataShards, int parityShards)
    {
        await using var listener = await DirectListener.BindAsync(k => Configure(k, crypt, dataShards, parityShards));
        await using var link = await RelayedEcho.OpenAsync(
            listener,
            new LinkImpairment
            {
                Loss = 0.10,
                Reorder = 0.02,
                Duplicate = 0.01,
                Corrupt = 0.001,
                Seed = 1000 + dataShards,
            },
            k => Configure(k, crypt, dataShards, parityShards));
        var relay = link.Relay;

        var clock = Stopwatch.StartNew();
        var (sent, received) = await StreamCheck.EchoAsync(link.Client, (long)MiB << 20, seed: 11, TimeSpan.FromMinutes(Math.Max(2, MiB / 2)));

        Assert.Equal(sent, received);
        Assert.True(relay.Upstream.Corrupted + relay.Downstream.Corrupted > 0 || MiB < 4, "no datagram was corrupted");
        var counters = listener.Counters;
        output.WriteLine(
            $"{crypt} fec {dataShards}/{parityShards}: {MiB} MiB echoed in {clock.Elapsed.TotalSeconds:F1} s, sha256 equal; " +
            $"relay up [{relay.Upstream}] down [{relay.Downstream}]; server drops: cipher {counters.DroppedCipher}, fec {counters.DroppedFec}, recovered {counters.FecRecovered}");
    }

    private static void Configure(KcpOptions k, string crypt, int dataShards, int parityShards)
    {
        k.Crypt = crypt;
        k.Key = "heavy-loss";
        k.DataShards = dataShards;
        k.ParityShards = parityShards;
        k.Mode = KcpMode.Fast3;
        k.IoLoopCount = 1;
        k.SendWindow = k.ReceiveWindow = 512;
    }
}
