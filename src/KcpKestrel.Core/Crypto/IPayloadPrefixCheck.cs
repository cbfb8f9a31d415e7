namespace KcpKestrel.Core.Crypto;

/// <summary>
/// The receiver's knowledge of what a payload looks like, lent to a kcp-go-framed cipher
/// (<see cref="KcpHeaderPacketCipher"/>) so that a forged datagram is dropped after decrypting a few
/// blocks instead of the whole datagram. kcp-go's framing puts its CRC in front of a payload that CFB
/// or a stream cipher covers whole, and its modes authenticate nothing, so only structure can reject a
/// forgery early. The check must accept every payload the receiver would act on: it filters, it does
/// not validate.
/// </summary>
internal interface IPayloadPrefixCheck
{
    /// <summary>
    /// Judges a payload of <paramref name="payloadLength"/> bytes from its decrypted first bytes,
    /// <paramref name="prefix"/> (possibly empty). On <see cref="PrefixVerdict.NeedMore"/>,
    /// <paramref name="needed"/> is the prefix length to come back with: more than
    /// <paramref name="prefix"/> holds, at most <see cref="MaxPrefixLength"/>. Given the whole payload
    /// or <see cref="MaxPrefixLength"/> bytes, the check decides.
    /// </summary>
    PrefixVerdict Check(ReadOnlySpan<byte> prefix, int payloadLength, out int needed);

    /// <summary>The most payload bytes <see cref="Check"/> ever asks for.</summary>
    int MaxPrefixLength { get; }
}
