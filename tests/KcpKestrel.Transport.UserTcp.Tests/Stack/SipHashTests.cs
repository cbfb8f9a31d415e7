using System.Buffers.Binary;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

public sealed class SipHashTests
{
    // The reference vectors of the SipHash paper (key 00..0f; messages 00, 01, ... of length 0 and 8).
    private const ulong K0 = 0x0706050403020100UL;
    private const ulong K1 = 0x0f0e0d0c0b0a0908UL;

    [Fact]
    public void EmptyMessage_MatchesTheReferenceVector()
    {
        Assert.Equal(0x726fdb47dd0e0e31UL, SipHash.Hash(K0, K1, []));
    }

    [Fact]
    public void EightByteMessage_MatchesTheReferenceVector()
    {
        ReadOnlySpan<ulong> message = [BinaryPrimitives.ReadUInt64LittleEndian([0, 1, 2, 3, 4, 5, 6, 7])];
        Assert.Equal(0x93f5f5799a932462UL, SipHash.Hash(K0, K1, message));
    }
}
