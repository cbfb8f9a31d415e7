using KcpKestrel.Core.Crypto;
using KcpKestrel.Transport.Kcp.Sessions;
using KcpKestrel.Transport.Kcp.Tests.InMemory;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests;

/// <summary>
/// The payload check the transport lends kcp-go-framed ciphers (issue #18 item 8) passes every datagram a
/// session sends, with and without FEC, the close signal included, and drops random ones before decrypting them.
/// </summary>
public sealed class PayloadCheckSessionTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var cases = new TheoryData<string, int, int>();
        foreach (var crypt in KcpCrypt.Names)
        {
            using var cipher = KcpCrypt.Create(new KcpOptions { Crypt = crypt, Key = "k" });
            if (cipher is KcpHeaderPacketCipher)
            {
                cases.Add(crypt, 0, 0);
                cases.Add(crypt, 3, 2);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transfer_AndClose_PassTheCheck_AndRandomDatagramsDoNot(string crypt, int dataShards, int parityShards)
    {
        var pair = new SessionPair(
            o =>
            {
                o.Crypt = crypt;
                o.Key = "k";
                o.DataShards = dataShards;
                o.ParityShards = parityShards;
            },
            seed: 7);
        pair.Link.Loss = 0.05;
        Assert.NotNull(pair.Server.Cipher.PayloadCheck);
        const int Bytes = 30_000;
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, Bytes);
        var received = 0;
        var input = pair.Server.Connection.Transport.Input;
        pair.AdvanceUntil(
            () =>
            {
                while (input.TryRead(out var result))
                {
                    received += (int)result.Buffer.Length;
                    input.AdvanceTo(result.Buffer.End);
                }

                return received >= Bytes;
            },
            60_000,
            "the transfer");

        pair.Server.Connection.Abort(new ConnectionAbortedException("test"));
        pair.AdvanceUntil(() => pair.Client.Session.State != KcpSessionState.Open, 10_000, "the close signal");

        var random = new Random(crypt.Length);
        var forged = new byte[1400];
        for (var i = 0; i < 50; i++)
        {
            random.NextBytes(forged);
            pair.Client.Cipher.Open(forged, out _, out _);
        }

        Assert.Equal(Bytes, received);
        Assert.Equal(0, pair.Server.Cipher.GetDropCount(CipherResult.Implausible));
        Assert.Equal(0, pair.Server.Cipher.GetDropCount(CipherResult.ChecksumMismatch));
        Assert.InRange(pair.Client.Cipher.GetDropCount(CipherResult.Implausible), 49, 50);
    }
}
