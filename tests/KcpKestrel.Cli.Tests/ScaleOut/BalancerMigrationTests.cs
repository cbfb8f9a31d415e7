using System.Net;
using System.Text.Json;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp;
using Xunit.Abstractions;

namespace KcpKestrel.Cli.Tests.ScaleOut;

/// <summary>
/// A client's source port changes mid-session behind nginx (a NAT rebinding before the balancer; and what an nginx
/// reload does to every client: its new workers open new upstream sockets). nginx hashes the new port afresh: where it
/// maps to the same instance, the session follows (aes-256-gcm, Migration on); where it maps elsewhere, that instance
/// does not know it, the session goes silent and the client must redial.
/// </summary>
public sealed class BalancerMigrationTests(ITestOutputHelper output)
{
    private const string Key = "scale-out";

    // Migration needs an AEAD cipher with address validation (both on by default for aes-256-gcm).
    private static readonly string[] Aead = ["--crypt", "aes-256-gcm", "--key", Key];

    [Fact]
    public async Task RebindingClients_SameInstanceKeepsSession_OtherInstanceLosesIt()
    {
        const int Count = 24;
        await using var rig = await ScaleOutRig.StartAsync(3, Aead);
        await using var nat = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), rig.EndPoint, new LinkImpairment());
        nat.Start();
        await using var clients = new EchoSessions(new KcpOptions { Crypt = "aes-256-gcm", Key = Key });
        await clients.OpenAsync(nat.EndPoint, Count);

        nat.Rebind();
        var kept = await clients.EchoAllAsync(TimeSpan.FromSeconds(3));
        var survivors = kept.Count(k => k);
        var stops = await rig.StopAllAsync();
        var migrated = stops.Sum(s => Kcp(s).GetProperty("migrations").GetInt64());
        var noSession = stops.Sum(s => Kcp(s).GetProperty("dropped").GetProperty("no_session").GetInt64());
        var accepted = stops.Sum(s => Kcp(s).GetProperty("sessionsAccepted").GetInt64());
        output.WriteLine($"{Count} sessions rebound behind nginx: {survivors} kept (migrated on their instance: {migrated}), {Count - survivors} lost; no_session drops {noSession}; {ScaleOutRig.Describe(stops)}");

        // About a third map to the same instance (3 instances): P(none) = (2/3)^24 < 1e-4.
        Assert.InRange(survivors, 1, Count - 1);
        Assert.Equal(survivors, migrated);

        // The others reached an instance with no such session: dropped there, and no session opened (a datagram
        // without an address token opens none in aes-256-gcm).
        Assert.True(noSession > 0, ScaleOutRig.Describe(stops));
        Assert.Equal(Count, accepted);
    }

    private static JsonElement Kcp(JsonElement? stop) => stop!.Value.GetProperty("kcp");
}
