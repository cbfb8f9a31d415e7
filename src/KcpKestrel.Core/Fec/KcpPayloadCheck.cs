using System.Buffers.Binary;
using KcpKestrel.Core.Arq;
using KcpKestrel.Core.Crypto;

namespace KcpKestrel.Core.Fec;

/// <summary>
/// What follows kcp-go's crypt header, as its receiver tells it apart (sess.go kcpInput): an FEC shard when
/// the u16 at payload offset 4 is 0xf1 (data) or 0xf2 (parity), else KCP segments. The receiver's decrypting
/// cipher asks this check about a datagram's first bytes (see <see cref="IPayloadPrefixCheck"/>), so random
/// bytes are dropped after a few blocks instead of a whole-datagram decrypt and CRC.
/// </summary>
/// <remarks>
/// Only what the receiver would drop anyway is implausible: a payload shorter than a KCP header (kcp-go's
/// packetInput ignores it), a data shard whose size field our <see cref="FecDecoder"/> refuses, and a first
/// segment whose cmd is unknown or whose len overruns the datagram (the control block refuses the whole
/// datagram for either). A random payload passes with odds of about 2 in 65,536 (an FEC flag) plus 5 in
/// 256 times 1,400 in 2^32 (a known cmd and a fitting len). It filters blind floods only: a forger who
/// replays the first blocks of a captured datagram still costs a full decrypt, as before.
/// </remarks>
internal sealed class KcpPayloadCheck : IPayloadPrefixCheck
{
    private const int FlagEnd = FecPacket.HeaderSize;
    private const int LenOffset = 20;
    private readonly bool[] _commands = new bool[256];

    /// <summary>A check accepting kcp-go's commands (PUSH, ACK, WASK, WINS) and <paramref name="extraCommands"/>.</summary>
    public KcpPayloadCheck(ReadOnlySpan<byte> extraCommands)
    {
        foreach (var cmd in (ReadOnlySpan<KcpCommand>)[KcpCommand.Push, KcpCommand.Ack, KcpCommand.WindowAsk, KcpCommand.WindowTell])
        {
            _commands[(byte)cmd] = true;
        }

        foreach (var cmd in extraCommands)
        {
            _commands[cmd] = true;
        }
    }

    /// <summary>The first segment header is all it reads.</summary>
    public int MaxPrefixLength => SegmentHeader.Size;

    public PrefixVerdict Check(ReadOnlySpan<byte> prefix, int payloadLength, out int needed)
    {
        needed = 0;
        if (payloadLength < SegmentHeader.Size)
        {
            return PrefixVerdict.Implausible;
        }

        if (prefix.Length < FlagEnd)
        {
            needed = FlagEnd;
            return PrefixVerdict.NeedMore;
        }

        switch (BinaryPrimitives.ReadUInt16LittleEndian(prefix[4..]))
        {
            case FecPacket.TypeParity:
                return PrefixVerdict.Plausible;
            case FecPacket.TypeData:
                if (prefix.Length < FecPacket.HeaderSizePlusSize)
                {
                    needed = FecPacket.HeaderSizePlusSize;
                    return PrefixVerdict.NeedMore;
                }

                var size = BinaryPrimitives.ReadUInt16LittleEndian(prefix[FecPacket.HeaderSize..]);
                return size >= 2 && FecPacket.HeaderSize + size <= payloadLength ? PrefixVerdict.Plausible : PrefixVerdict.Implausible;
        }

        if (!_commands[prefix[4]])
        {
            return PrefixVerdict.Implausible;
        }

        if (prefix.Length < SegmentHeader.Size)
        {
            needed = SegmentHeader.Size;
            return PrefixVerdict.NeedMore;
        }

        var len = BinaryPrimitives.ReadUInt32LittleEndian(prefix[LenOffset..]);
        return len <= (uint)(payloadLength - SegmentHeader.Size) ? PrefixVerdict.Plausible : PrefixVerdict.Implausible;
    }
}
