using KcpKestrel.Transport.Kcp.Tests.InMemory;

namespace KcpKestrel.Transport.Kcp.Tests;

public sealed class InMemorySessionTests
{
    [Theory]
    [InlineData("aes", 10, 3)]
    [InlineData("aes-128-gcm", 0, 0)]
    [InlineData("null", 4, 2)]
    public void Transfer_OverALossyReorderingLink_EveryByteArrivesInOrder(string crypt, int dataShards, int parityShards)
    {
        var pair = new SessionPair(
            o =>
            {
                o.Crypt = crypt;
                o.Key = "k";
                o.DataShards = dataShards;
                o.ParityShards = parityShards;
            },
            seed: 42);
        pair.Link.Loss = 0.1;
        pair.Link.JitterMs = 20;
        const int Bytes = 200_000;
        SessionCloseStateTests.Write(pair.Client.Connection.Transport.Output, Bytes);

        var received = new List<byte>(Bytes);
        var input = pair.Server.Connection.Transport.Input;
        pair.AdvanceUntil(
            () =>
            {
                while (input.TryRead(out var result))
                {
                    foreach (var segment in result.Buffer)
                    {
                        received.AddRange(segment.Span);
                    }

                    input.AdvanceTo(result.Buffer.End);
                }

                return received.Count >= Bytes;
            },
            60_000,
            "the transfer");

        Assert.Equal(Bytes, received.Count);
        for (var i = 0; i < Bytes; i++)
        {
            Assert.Equal((byte)i, received[i]);
        }
    }
}
