using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Tests.Crypto;

public sealed class AeadReplayTests
{
    private static readonly byte[] Key = PacketCipherFactory.DeriveKey("replay");

    private static byte[] Seal(PacketCipher cipher, int length)
    {
        var packet = new byte[cipher.Overhead + length];
        cipher.Seal(packet, length);
        return packet;
    }

    [Theory]
    [InlineData("aes-256-gcm")]
    [InlineData("chacha20-poly1305")]
    public void Replayed_IsDropped_ReorderedIsAccepted(string mode)
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey(mode, Key);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey(mode, Key);
        var window = new ReplayWindow();
        var packets = Enumerable.Range(0, 10).Select(i => Seal(sender, 30 + i)).ToArray();

        foreach (var i in new[] { 3, 0, 9, 1, 2, 8, 4, 5, 7, 6 })
        {
            Assert.Equal(CipherResult.Ok, receiver.Open((byte[])packets[i].Clone(), window, out _, out _));
        }

        foreach (var p in packets)
        {
            Assert.Equal(CipherResult.Replayed, receiver.Open((byte[])p.Clone(), window, out _, out _));
        }

        Assert.Equal(10, receiver.GetDropCount(CipherResult.Replayed));
    }

    [Fact]
    public void Forgery_DoesNotAdvanceWindow()
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey("aes-256-gcm", Key);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey("aes-256-gcm", Key);
        var window = new ReplayWindow();
        var first = Seal(sender, 10);
        Assert.Equal(CipherResult.Ok, receiver.Open((byte[])first.Clone(), window, out _, out _));

        // A forged datagram claiming a far-ahead counter must not slide the window past real traffic.
        var forged = Seal(sender, 10);
        BitConverter.TryWriteBytes(forged.AsSpan(4), window.Highest + 1_000_000);
        Assert.Equal(CipherResult.AuthenticationFailed, receiver.Open(forged, window, out _, out _));

        var second = Seal(sender, 10);
        Assert.Equal(CipherResult.Ok, receiver.Open(second, window, out _, out _));
    }

    [Fact]
    public void OtherSender_IsRefusedByBoundWindow()
    {
        using var a = PacketCipherFactory.CreateFromDerivedKey("chacha20-poly1305", Key);
        using var b = PacketCipherFactory.CreateFromDerivedKey("chacha20-poly1305", Key);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey("chacha20-poly1305", Key);
        Assert.NotEqual(((AeadPacketCipher)a).SenderId, ((AeadPacketCipher)b).SenderId);
        var window = new ReplayWindow();
        Assert.Equal(CipherResult.Ok, receiver.Open(Seal(a, 5), window, out _, out _));
        Assert.Equal(CipherResult.UnknownSender, receiver.Open(Seal(b, 5), window, out _, out _));
        Assert.Equal(CipherResult.Ok, receiver.Open(Seal(b, 5), out _, out _));
    }

    [Fact]
    public void KcpGoGcm_IgnoresWindow_BecauseKcpGoNoncesAreRandom()
    {
        using var sender = PacketCipherFactory.CreateFromDerivedKey("aes-128-gcm", Key);
        using var receiver = PacketCipherFactory.CreateFromDerivedKey("aes-128-gcm", Key);
        Assert.False(receiver.SupportsReplayWindow);
        var packet = Seal(sender, 20);
        var window = new ReplayWindow();
        Assert.Equal(CipherResult.Ok, receiver.Open((byte[])packet.Clone(), window, out _, out _));
        Assert.Equal(CipherResult.Ok, receiver.Open((byte[])packet.Clone(), window, out _, out _));
        Assert.False(window.IsBound);
    }

    [Fact]
    public void Sequence_CountsUpPerSeal()
    {
        using var sender = (AeadPacketCipher)PacketCipherFactory.CreateFromDerivedKey("aes-256-gcm", Key);
        var start = sender.NextSequence;
        Assert.True(start < (1UL << 62));
        var packet = Seal(sender, 0);
        Assert.Equal(start, BitConverter.ToUInt64(packet, 4));
        Assert.Equal(sender.SenderId, BitConverter.ToUInt32(packet, 0));
        Assert.Equal(start + 1, sender.NextSequence);
    }
}
